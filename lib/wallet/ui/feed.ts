/**
 * One watched address as the wallet page shows it — balances, the activity feed (newest
 * first) and the last reorganization told — as plain immutable values, changed by pure
 * functions: a first page read over HTTP, an older page ("load more"), and each message
 * of `wallet:{address}`. No signals, sockets or DOM here (lib/wallet/ui/hooks.ts wires
 * them).
 *
 * Why the feed stays exact: items merge by their stable `id` (an item message replaces
 * the item, wherever it is in the list; a new id goes on top — ids are created in feed
 * order), balances are replaced whole, and the channel delivers in order. The hook reads
 * the first page while the channel's messages wait in a buffer, then applies the page and
 * replays the buffer: whatever the page already had is set again, and what happened
 * after it is applied on top, so the end state is the channel's newest.
 *
 * @module
 */
import type {
  ActivityItem,
  BalanceEntry,
  ReorgMessage,
  WalletMessage,
  WalletView,
} from "../types.ts";

/** Items kept in memory at most; past it the oldest are dropped and paging stops. */
export const MAX_FEED_ITEMS = 500;

/** The page's state of one watched address. */
export interface WalletFeed {
  address: string;
  chainId: number | null;
  /** The newest head the feed heard of (the page's or a message's). */
  head: number | null;
  /** Confirmations after which `included` becomes `confirmed`. */
  required: number;
  balances: BalanceEntry[];
  balancesBlock: number | null;
  /** Newest first, each id once. */
  items: ActivityItem[];
  /** The cursor of the next older page; null when there is none (or the feed was trimmed). */
  next: string | null;
  /** True when older items were dropped to stay under {@linkcode MAX_FEED_ITEMS}. */
  trimmed: boolean;
  /** The last reorganization told on the channel while the page was open, with when. */
  reorg: (Omit<ReorgMessage, "type"> & { seenAt: number }) | null;
}

/** The feed of a first page (`GET /api/wallet/{address}`). */
export function feedFromView(view: WalletView): WalletFeed {
  return {
    address: view.address,
    chainId: view.chainId,
    head: view.head,
    required: view.confirmationsRequired,
    balances: view.balances,
    balancesBlock: view.balancesBlock,
    items: dedupe(view.activity).slice(0, MAX_FEED_ITEMS),
    next: view.next,
    trimmed: false,
    reorg: null,
  };
}

function dedupe(items: readonly ActivityItem[]): ActivityItem[] {
  const seen = new Set<string>();
  return items.filter((i) => !seen.has(i.id) && seen.add(i.id));
}

/**
 * The feed after reading its first page again (on open, or after a reconnect that could
 * not replay what was missed): the page replaces the items (older pages loaded before
 * are dropped: paging starts over), the reorg notice stays.
 */
export function withFirstPage(feed: WalletFeed | null, view: WalletView): WalletFeed {
  const fresh = feedFromView(view);
  return feed && feed.address === view.address ? { ...fresh, reorg: feed.reorg } : fresh;
}

/** The feed with an older page appended (`?cursor=` of `next`): only ids not shown yet. */
export function withOlderPage(feed: WalletFeed, view: WalletView): WalletFeed {
  if (view.address !== feed.address) return feed;
  const known = new Set(feed.items.map((i) => i.id));
  const added = dedupe(view.activity).filter((i) => !known.has(i.id));
  const items = [...feed.items, ...added];
  const trimmed = items.length > MAX_FEED_ITEMS;
  return {
    ...feed,
    items: trimmed ? items.slice(0, MAX_FEED_ITEMS) : items,
    next: trimmed ? null : view.next,
    trimmed: feed.trimmed || trimmed,
  };
}

/** The feed after one message of `wallet:{address}` (`now` stamps a reorg notice). */
export function applyMessage(feed: WalletFeed, message: WalletMessage, now: number): WalletFeed {
  switch (message.type) {
    case "item": {
      const item = message.item;
      const head = message.head ?? feed.head;
      const at = feed.items.findIndex((i) => i.id === item.id);
      if (at >= 0) {
        const items = feed.items.slice();
        items[at] = item;
        return { ...feed, items, head };
      }
      const items = [item, ...feed.items];
      const trimmed = items.length > MAX_FEED_ITEMS;
      return {
        ...feed,
        head,
        items: trimmed ? items.slice(0, MAX_FEED_ITEMS) : items,
        next: trimmed ? null : feed.next,
        trimmed: feed.trimmed || trimmed,
      };
    }
    case "balances":
      return { ...feed, balances: message.balances, balancesBlock: message.block };
    case "reorg": {
      const { type: _type, ...info } = message;
      return { ...feed, reorg: { ...info, seenAt: now } };
    }
  }
}

/** The feed without its reorg notice (dismissed). */
export function withoutReorg(feed: WalletFeed): WalletFeed {
  return feed.reorg ? { ...feed, reorg: null } : feed;
}

/** The total USD value of the balances that have one, or null when none has. */
export function totalUsd(balances: readonly BalanceEntry[]): number | null {
  let total: number | null = null;
  for (const b of balances) if (b.usd !== undefined) total = (total ?? 0) + b.usd;
  return total;
}

/** The first item of transaction `txHash` in the feed (the anchor a link goes to), if any. */
export function itemOfTx(feed: WalletFeed, txHash: string): ActivityItem | undefined {
  const hash = txHash.toLowerCase();
  return feed.items.find((i) => i.txHash === hash);
}
