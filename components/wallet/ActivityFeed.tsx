import type { ReadonlySignal } from "@preact/signals";
import type { ActivityItem } from "../../lib/wallet/types.ts";
import type { WalletFeed } from "../../lib/wallet/ui/feed.ts";
import { itemOfTx } from "../../lib/wallet/ui/feed.ts";
import {
  DIRECTION_TEXT,
  formatAgo,
  formatInteger,
  itemAmount,
  shortHex,
} from "../../lib/wallet/ui/format.ts";
import { formatFull } from "../../lib/notifications/ui/relative_time.ts";
import { CopyButton } from "./CopyButton.tsx";
import { StatusChip } from "./StatusChip.tsx";

/** The element id of an item's row (the target of a "replaced by" link). */
export function itemAnchor(id: string): string {
  return `item-${id}`;
}

const KIND_TEXT = { native: "", erc20: "ERC-20", erc721: "NFT" } as const;

/** How long ago, updating with the page's clock (only this text re-renders each second). */
function Age({ ts, now, locale }: { ts: number; now: ReadonlySignal<number>; locale: string }) {
  return (
    <time class="witem-age" dateTime={new Date(ts).toISOString()} title={formatFull(ts, locale)}>
      {formatAgo(ts, now.value, locale)}
    </time>
  );
}

/** A hash or address, shortened, with its full text in `title` and a copy button. */
export function Hex({ value, what }: { value: string; what: string }) {
  return (
    <span class="hex">
      <code title={value}>{shortHex(value)}</code>
      <CopyButton text={value} what={what} />
    </span>
  );
}

function Counterparty({ item }: { item: ActivityItem }) {
  if (item.direction === "self") return <span class="witem-party">to self</span>;
  if (item.direction === "in") {
    if (/^0x0{40}$/.test(item.from) && item.kind !== "native") {
      return <span class="witem-party muted">minted</span>;
    }
    return (
      <span class="witem-party">
        <span class="muted">from</span> <Hex value={item.from} what="sender address" />
      </span>
    );
  }
  if (item.to === null) return <span class="witem-party muted">contract creation</span>;
  return (
    <span class="witem-party">
      <span class="muted">to</span> <Hex value={item.to} what="recipient address" />
    </span>
  );
}

/** What followed a replaced transaction: a link to its row when the feed has it. */
function ReplacedBy({ item, feed }: { item: ActivityItem; feed: WalletFeed }) {
  if (!item.replacedBy) return null;
  const target = itemOfTx(feed, item.replacedBy);
  return (
    <span class="witem-note">
      by {target
        ? (
          <a href={`#${itemAnchor(target.id)}`} data-testid="replaced-by">
            <code>{shortHex(item.replacedBy)}</code>
          </a>
        )
        : <code title={item.replacedBy}>{shortHex(item.replacedBy)}</code>}
    </span>
  );
}

/** Props of {@linkcode ActivityRow}. */
export interface ActivityRowProps {
  item: ActivityItem;
  feed: WalletFeed;
  locale: string;
  now: ReadonlySignal<number>;
  /** The transaction the page was opened for (`?tx=`): its rows stand out. */
  highlight?: boolean;
}

/** One line of the feed: direction, what moved, with whom, the transaction, status, age. */
export function ActivityRow({ item, feed, locale, now, highlight }: ActivityRowProps) {
  // A transaction that moved no ether to someone else is a contract call (a token transfer,
  // a mint): Etherscan shows it with its method; the tag says the same.
  const call = item.kind === "native" && item.raw === "0" && item.direction !== "self" &&
    item.to !== null;
  const kind = call ? "call" : KIND_TEXT[item.kind];
  return (
    <li
      class="witem"
      id={itemAnchor(item.id)}
      data-testid="activity-item"
      data-id={item.id}
      data-tx={item.txHash}
      data-status={item.status}
      data-highlight={highlight ? "true" : undefined}
    >
      <span class={`dir dir-${item.direction}`}>{DIRECTION_TEXT[item.direction]}</span>
      <div class="witem-what">
        <span class="witem-amount" data-testid="amount">
          {itemAmount(item, locale)}
          {kind && <span class="witem-kind">{kind}</span>}
        </span>
        <Counterparty item={item} />
      </div>
      <div class="witem-tx">
        <span class="witem-txhash">
          <span class="muted">Tx</span> <Hex value={item.txHash} what="transaction hash" />
        </span>
        <span class="witem-block muted">
          {item.blockNumber === null
            ? "not in a block"
            : `Block ${formatInteger(item.blockNumber, locale)}`}
        </span>
      </div>
      <div class="witem-status">
        <StatusChip item={item} required={feed.required} />
        {item.status === "failed" && (
          <span class="witem-note witem-reason" data-testid="revert-reason">
            {item.revertReason ?? "no reason given"}
          </span>
        )}
        {item.status === "replaced" && <ReplacedBy item={item} feed={feed} />}
      </div>
      <Age ts={item.ts} now={now} locale={locale} />
    </li>
  );
}

/** Props of {@linkcode ActivityFeed}. */
export interface ActivityFeedProps {
  feed: WalletFeed;
  locale: string;
  now: ReadonlySignal<number>;
  highlightTx: string | null;
  loadingMore: boolean;
  moreError: string | null;
  onLoadMore(): void;
}

/** The activity of one address, newest first, with "load more" while older pages exist. */
export function ActivityFeed(props: ActivityFeedProps) {
  const { feed } = props;
  return (
    <section class="panel wfeed-panel" aria-labelledby="wfeed-title">
      <div class="wpanel-head">
        <h2 id="wfeed-title">Activity</h2>
        <span class="muted wpanel-note">
          {feed.head === null ? "" : `head ${formatInteger(feed.head, props.locale)} · `}
          confirmed at {feed.required}
        </span>
      </div>
      {feed.items.length === 0
        ? (
          <p class="muted wfeed-empty" data-testid="activity-empty">
            No activity yet. Transactions to or from this address show here from the moment it is
            watched — pending ones included.
          </p>
        )
        : (
          <ol class="wfeed" aria-label="Transactions, newest first" data-testid="activity">
            {feed.items.map((item) => (
              <ActivityRow
                key={item.id}
                item={item}
                feed={feed}
                locale={props.locale}
                now={props.now}
                highlight={props.highlightTx !== null && item.txHash === props.highlightTx}
              />
            ))}
          </ol>
        )}
      {feed.next && (
        <div class="wfeed-more">
          <button
            type="button"
            class="chip-button"
            data-testid="load-more"
            disabled={props.loadingMore}
            onClick={props.onLoadMore}
          >
            {props.loadingMore ? "Loading…" : "Load older activity"}
          </button>
        </div>
      )}
      {props.moreError && <p class="form-error" role="alert">{props.moreError}</p>}
      {feed.trimmed && (
        <p class="muted wfeed-trimmed">
          Showing the newest {feed.items.length} items; reload the page to page further back.
        </p>
      )}
    </section>
  );
}
