/**
 * Validation of what the wallet page receives — the answers of `/api/wallet/*` and
 * `/api/chain`, and the messages of `wallet:{address}` and `chain:status` — with
 * `zod/mini` to keep the island bundle small. Whatever does not fit is `null` (a whole
 * answer) or left out (one activity item or balance of a page): the caller counts it and
 * the page goes on. Strings from the chain (token symbols, revert reasons) are bounded
 * here and only ever rendered as text.
 *
 * @module
 */
import * as z from "zod/mini";
import type {
  ActivityItem,
  BalanceEntry,
  ChainStatus,
  ReorgInfo,
  WalletMessage,
  WalletView,
  WatchedAddress,
} from "../types.ts";

/** Items accepted in one page (the server sends at most 100). */
export const MAX_PAGE_ITEMS = 100;
/** Balances accepted in one answer or message (the server keeps at most 50 tokens). */
export const MAX_BALANCES = 64;
/** Watched addresses accepted in one list (the server keeps at most 20). */
export const MAX_WATCHED_LIST = 100;
/** Longest token symbol kept (longer ones are cut, not rejected). */
export const MAX_SYMBOL_CHARS = 24;
/** Longest revert reason kept. */
export const MAX_REASON_CHARS = 200;

const int = () => z.number().check(z.int(), z.gte(0));
const time = () => z.number().check(z.gte(0), z.lte(8.64e15));
const address = () => z.string().check(z.regex(/^0x[0-9a-fA-F]{40}$/));
const hash = () => z.string().check(z.regex(/^0x[0-9a-fA-F]{64}$/));
/** A decimal amount as the server writes it (never a float): `1.5`, `12345`. */
const decimal = () => z.string().check(z.regex(/^-?[0-9]{1,80}(\.[0-9]{1,80})?$/));
const digits = () => z.string().check(z.regex(/^[0-9]{1,80}$/));
const symbol = () => z.nullable(z.string().check(z.maxLength(400)));

const tokenRef = z.object({
  address: address(),
  symbol: symbol(),
  decimals: z.nullable(z.number().check(z.int(), z.gte(0), z.lte(255))),
  unknown: z.optional(z.literal(true)),
});

const activityItem = z.object({
  id: z.string().check(z.regex(/^0x[0-9a-fA-F]{64}:(tx|[0-9]{1,6})$/)),
  kind: z.enum(["native", "erc20", "erc721"]),
  direction: z.enum(["in", "out", "self"]),
  txHash: hash(),
  blockNumber: z.nullable(int()),
  blockHash: z.nullable(hash()),
  status: z.enum(["pending", "included", "confirmed", "failed", "dropped", "replaced", "reorged"]),
  confirmations: int(),
  replacedBy: z.optional(hash()),
  reason: z.optional(z.enum(["repriced", "cancelled", "replaced"])),
  revertReason: z.optional(z.string().check(z.maxLength(4_000))),
  from: address(),
  to: z.nullable(address()),
  amount: z.optional(decimal()),
  raw: z.optional(digits()),
  tokenId: z.optional(digits()),
  token: z.optional(tokenRef),
  ts: time(),
});

const balanceEntry = z.object({
  asset: z.union([z.literal("native"), address()]),
  kind: z.enum(["native", "erc20", "erc721"]),
  symbol: symbol(),
  amount: decimal(),
  raw: digits(),
  decimals: z.nullable(z.number().check(z.int(), z.gte(0), z.lte(255))),
  usd: z.optional(z.number().check(z.gte(-1e18), z.lte(1e18))),
  unknown: z.optional(z.literal(true)),
});

const list = (max: number) => z.array(z.unknown()).check(z.maxLength(max));

const walletView = z.object({
  address: address(),
  chainId: z.nullable(int()),
  head: z.nullable(int()),
  confirmationsRequired: z.number().check(z.int(), z.gte(1), z.lte(100_000)),
  balances: list(MAX_BALANCES),
  balancesBlock: z.nullable(int()),
  activity: list(MAX_PAGE_ITEMS),
  next: z.nullable(z.string().check(z.regex(/^[0-9]{1,20}$/))),
});

const ancestor = z.object({ number: int(), hash: z.nullable(hash()) });

const reorgInfo = z.object({
  from: int(),
  to: int(),
  depth: int(),
  ancestor,
  deep: z.boolean(),
  at: time(),
});

const chainStatus = z.object({
  chainId: z.nullable(int()),
  rpc: z.enum(["connected", "reconnecting", "off"]),
  head: z.nullable(int()),
  headHash: z.nullable(hash()),
  finalized: z.nullable(z.number().check(z.int())),
  lagMs: z.nullable(z.number().check(z.gte(-1e12), z.lte(1e15))),
  reorgs: int(),
  deepReorgs: int(),
  lastReorg: z.nullable(reorgInfo),
  confirmations: int(),
  finality: int(),
  mempool: z.enum(["txpool", "pending-block", "none"]),
  error: z.nullable(z.string().check(z.maxLength(2_000))),
  updatedAt: time(),
});

const itemMessage = z.object({
  type: z.literal("item"),
  item: z.unknown(),
  head: z.nullable(int()),
});
const balancesMessage = z.object({
  type: z.literal("balances"),
  balances: list(MAX_BALANCES),
  block: int(),
});
const reorgMessage = z.object({
  type: z.literal("reorg"),
  from: int(),
  to: int(),
  depth: int(),
  deep: z.boolean(),
  ancestor,
});

const watched = z.object({
  address: address(),
  label: z.string().check(z.maxLength(200)),
  addedAt: time(),
});
const watchList = z.object({
  addresses: list(MAX_WATCHED_LIST),
  max: z.number().check(z.int(), z.gte(0), z.lte(10_000)),
});

function cut(text: string | null, max: number): string | null {
  if (text === null) return null;
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max - 1).join("")}…` : text;
}

/** An {@linkcode ActivityItem}, or `null` when `data` is not one. */
export function parseActivityItem(data: unknown): ActivityItem | null {
  const r = activityItem.safeParse(data);
  if (!r.success) return null;
  const v = r.data;
  const item: ActivityItem = {
    id: v.id,
    kind: v.kind,
    direction: v.direction,
    txHash: v.txHash.toLowerCase(),
    blockNumber: v.blockNumber,
    blockHash: v.blockHash,
    status: v.status,
    confirmations: v.confirmations,
    from: v.from,
    to: v.to,
    ts: v.ts,
  };
  if (v.replacedBy !== undefined) item.replacedBy = v.replacedBy.toLowerCase();
  if (v.reason !== undefined) item.reason = v.reason;
  if (v.revertReason !== undefined) {
    item.revertReason = cut(v.revertReason, MAX_REASON_CHARS) ?? undefined;
  }
  if (v.amount !== undefined) item.amount = v.amount;
  if (v.raw !== undefined) item.raw = v.raw;
  if (v.tokenId !== undefined) item.tokenId = v.tokenId;
  if (v.token !== undefined) {
    item.token = {
      address: v.token.address,
      symbol: cut(v.token.symbol, MAX_SYMBOL_CHARS),
      decimals: v.token.decimals,
    };
    if (v.token.unknown) item.token.unknown = true;
  }
  return item;
}

/** A {@linkcode BalanceEntry}, or `null` when `data` is not one. */
export function parseBalance(data: unknown): BalanceEntry | null {
  const r = balanceEntry.safeParse(data);
  if (!r.success) return null;
  const v = r.data;
  const entry: BalanceEntry = {
    asset: v.asset,
    kind: v.kind,
    symbol: cut(v.symbol, MAX_SYMBOL_CHARS),
    amount: v.amount,
    raw: v.raw,
    decimals: v.decimals,
  };
  if (v.usd !== undefined && Number.isFinite(v.usd)) entry.usd = v.usd;
  if (v.unknown) entry.unknown = true;
  return entry;
}

/** Parses each element with `parse`; counts the ones it refused in `dropped`. */
function each<T>(
  values: unknown[],
  parse: (v: unknown) => T | null,
  dropped: { count: number },
): T[] {
  const out: T[] = [];
  for (const v of values) {
    const p = parse(v);
    if (p === null) dropped.count++;
    else out.push(p);
  }
  return out;
}

/** A parsed answer, with how many of its items or balances did not fit and were left out. */
export interface Parsed<T> {
  value: T;
  dropped: number;
}

/** A {@linkcode WalletView} (bad items and balances left out and counted), or `null`. */
export function parseWalletView(data: unknown): Parsed<WalletView> | null {
  const r = walletView.safeParse(data);
  if (!r.success) return null;
  const v = r.data;
  const dropped = { count: 0 };
  const value: WalletView = {
    address: v.address,
    chainId: v.chainId,
    head: v.head,
    confirmationsRequired: v.confirmationsRequired,
    balances: each(v.balances, parseBalance, dropped),
    balancesBlock: v.balancesBlock,
    activity: each(v.activity, parseActivityItem, dropped),
    next: v.next,
  };
  return { value, dropped: dropped.count };
}

/** A message of `wallet:{address}`, or `null` when `data` is not one (or its item is bad). */
export function parseWalletMessage(data: unknown): WalletMessage | null {
  const type = data && typeof data === "object" ? (data as { type?: unknown }).type : undefined;
  if (type === "item") {
    const r = itemMessage.safeParse(data);
    if (!r.success) return null;
    const item = parseActivityItem(r.data.item);
    return item ? { type: "item", item, head: r.data.head } : null;
  }
  if (type === "balances") {
    const r = balancesMessage.safeParse(data);
    if (!r.success) return null;
    const dropped = { count: 0 };
    const balances = each(r.data.balances, parseBalance, dropped);
    return dropped.count > 0 ? null : { type: "balances", balances, block: r.data.block };
  }
  if (type === "reorg") {
    const r = reorgMessage.safeParse(data);
    if (!r.success) return null;
    const v = r.data;
    return {
      type: "reorg",
      from: v.from,
      to: v.to,
      depth: v.depth,
      deep: v.deep,
      ancestor: { number: v.ancestor.number, hash: v.ancestor.hash },
    };
  }
  return null;
}

/** A {@linkcode ChainStatus} (`GET /api/chain`, `chain:status`), or `null`. */
export function parseChainStatus(data: unknown): ChainStatus | null {
  const r = chainStatus.safeParse(data);
  if (!r.success) return null;
  const v = r.data;
  const lastReorg: ReorgInfo | null = v.lastReorg
    ? {
      from: v.lastReorg.from,
      to: v.lastReorg.to,
      depth: v.lastReorg.depth,
      ancestor: { number: v.lastReorg.ancestor.number, hash: v.lastReorg.ancestor.hash },
      deep: v.lastReorg.deep,
      at: v.lastReorg.at,
    }
    : null;
  return { ...v, error: cut(v.error, 300), lastReorg };
}

/** A {@linkcode WatchedAddress}, or `null`. */
export function parseWatched(data: unknown): WatchedAddress | null {
  const r = watched.safeParse(data);
  return r.success
    ? { address: r.data.address, label: cut(r.data.label, 40) ?? "", addedAt: r.data.addedAt }
    : null;
}

/** `GET /api/wallet/watch`'s answer, or `null`. */
export function parseWatchList(
  data: unknown,
): { addresses: WatchedAddress[]; max: number } | null {
  const r = watchList.safeParse(data);
  if (!r.success) return null;
  const dropped = { count: 0 };
  return { addresses: each(r.data.addresses, parseWatched, dropped), max: r.data.max };
}
