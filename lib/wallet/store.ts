/**
 * What the chain listener keeps in KV (keys in lib/kv/keys.ts), and the reads the HTTP
 * routes make. The listener (the `chain` lease holder) is the only writer of the chain's
 * keys; every one of its commits checks and rewrites the cursor, so a holder that lost
 * the lease without knowing it cannot write anything (fencing).
 *
 * @module
 */
import {
  chainBlockPrefix,
  chainCursorKey,
  chainOutboxPrefix,
  chainStatusKey,
  chainTokenKey,
  chainTxPrefix,
  walletBalanceKey,
  walletItemPrefix,
} from "../kv/keys.ts";
import type { Hex } from "./rpc_schemas.ts";
import type {
  ActivityItem,
  ChainStatus,
  ReorgInfo,
  ReplacementReason,
  TokenRef,
  TxStatus,
} from "./types.ts";

/** The listener's durable position on one chain. */
export interface ChainCursor {
  /** The last ingested block; −1 before the first. */
  number: number;
  hash: Hex | null;
  /** Block 0's hash: a different one means another chain (an embedded anvil restarted). */
  genesis: Hex;
  /** The next activity item's `seq`. */
  itemSeq: number;
  /** The next outbox entry's `seq`. */
  outboxSeq: number;
  /** Blocks ingested (committed), less those rolled back: one per canonical block. */
  ingested: number;
  reorgs: number;
  deepReorgs: number;
  lastReorg: ReorgInfo | null;
}

/** One block of the unfinalized window. */
export interface StoredBlock {
  number: number;
  hash: Hex;
  parentHash: Hex;
  /** ms */
  ts: number;
  /** Tracked transactions it carries. */
  txs: Hex[];
  /** Watched addresses whose activity it carries (checksummed). */
  addresses: string[];
}

/** An activity item as stored: without `confirmations` (counted on read) and `status`
 * `included` even once confirmed (derived on read too). */
export interface StoredItem extends Omit<ActivityItem, "confirmations"> {
  /** The watched address whose feed it belongs to. */
  address: string;
  /** Orders the feed (ascending = older). */
  seq: number;
}

/** A transaction touching a watched address, followed until final. */
export interface TrackedTx {
  hash: Hex;
  from: Hex;
  to: Hex | null;
  nonce: number;
  /** wei */
  value: string;
  /** keccak256 of the input: tells a repriced replacement from another. */
  inputHash: Hex;
  status: Exclude<TxStatus, "confirmed">;
  block: { number: number; hash: Hex; ts: number } | null;
  /** ms */
  firstSeen: number;
  replacedBy?: Hex;
  reason?: ReplacementReason;
  revertReason?: string;
  /** The block number of the last status change (garbage collection). */
  changedAt: number;
  /** The hash of the block whose ingestion set the status (included, failed, replaced). */
  decidedIn?: Hex;
  /** Its items in the feeds of watched addresses. */
  items: StoredItem[];
}

/** A token's metadata, read once. */
export interface TokenMeta {
  address: string;
  kind: "erc20" | "erc721";
  name: string | null;
  symbol: string | null;
  decimals: number | null;
  /** Metadata could not be read: amounts stay raw. */
  unknown: boolean;
}

/** Balances of an address, raw units, at a block. */
export interface StoredBalances {
  block: number;
  native: string;
  /** token address → raw balance (null: unreadable). */
  tokens: Record<string, string | null>;
}

/** One message waiting in the outbox. */
export interface OutboxMessage {
  channel: string;
  data: unknown;
}

/** The reference a token is shown with. */
export function tokenRef(meta: TokenMeta): TokenRef {
  return {
    address: meta.address,
    symbol: meta.symbol,
    decimals: meta.decimals,
    ...(meta.unknown ? { unknown: true as const } : {}),
  };
}

/** The cursor of a chain, or null before the first start. */
export async function readCursor(
  kv: Deno.Kv,
  chainId: number,
): Promise<Deno.KvEntryMaybe<ChainCursor>> {
  return await kv.get<ChainCursor>(chainCursorKey(chainId));
}

/** The unfinalized window, by number. */
export async function readWindow(kv: Deno.Kv, chainId: number): Promise<Map<number, StoredBlock>> {
  const out = new Map<number, StoredBlock>();
  for await (const e of kv.list<StoredBlock>({ prefix: chainBlockPrefix(chainId) })) {
    out.set(e.value.number, e.value);
  }
  return out;
}

/** Every tracked transaction, by hash. */
export async function readTracked(kv: Deno.Kv, chainId: number): Promise<Map<Hex, TrackedTx>> {
  const out = new Map<Hex, TrackedTx>();
  for await (const e of kv.list<TrackedTx>({ prefix: chainTxPrefix(chainId) })) {
    out.set(e.value.hash, e.value);
  }
  return out;
}

/** A token's cached metadata. */
export async function readToken(
  kv: Deno.Kv,
  chainId: number,
  address: string,
): Promise<TokenMeta | null> {
  return (await kv.get<TokenMeta>(chainTokenKey(chainId, address))).value;
}

/** Outbox entries in order (at most `limit`). */
export async function readOutbox(
  kv: Deno.Kv,
  chainId: number,
  limit = 200,
): Promise<Deno.KvEntry<OutboxMessage[]>[]> {
  const out: Deno.KvEntry<OutboxMessage[]>[] = [];
  for await (
    const e of kv.list<OutboxMessage[]>({ prefix: chainOutboxPrefix(chainId) }, { limit })
  ) {
    out.push(e);
  }
  return out;
}

/** The chain's status as the listener last wrote it. */
export async function readChainStatus(kv: Deno.Kv): Promise<ChainStatus | null> {
  return (await kv.get<ChainStatus>(chainStatusKey())).value;
}

/** An address's stored balances. */
export async function readBalances(
  kv: Deno.Kv,
  chainId: number,
  address: string,
): Promise<StoredBalances | null> {
  return (await kv.get<StoredBalances>(walletBalanceKey(chainId, address))).value;
}

/** A page of an address's feed, newest first, strictly older than `before` (a seq). */
export async function readItems(
  kv: Deno.Kv,
  chainId: number,
  address: string,
  options: { limit: number; before?: number },
): Promise<StoredItem[]> {
  const prefix = walletItemPrefix(chainId, address);
  const selector: Deno.KvListSelector = options.before === undefined
    ? { prefix }
    : { prefix, end: [...prefix, options.before] };
  const out: StoredItem[] = [];
  for await (const e of kv.list<StoredItem>(selector, { reverse: true, limit: options.limit })) {
    out.push(e.value);
  }
  return out;
}

/** Deletes every key under `prefix`, in commits of at most 500 deletions. */
export async function deletePrefix(kv: Deno.Kv, prefix: Deno.KvKey): Promise<number> {
  let deleted = 0;
  for (;;) {
    const keys: Deno.KvKey[] = [];
    for await (const e of kv.list({ prefix }, { limit: 500 })) keys.push(e.key);
    if (keys.length === 0) return deleted;
    const op = kv.atomic();
    for (const key of keys) op.delete(key);
    await op.commit();
    deleted += keys.length;
  }
}
