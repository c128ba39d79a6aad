/**
 * How publishes become KV commits, decided without KV: the KV bus (kv_bus.ts) reads the
 * state, asks this module for a plan and writes the plan as one atomic commit. Pure:
 * the same inputs give the same plan.
 *
 * - {@linkcode publishCost} and {@linkcode takeBatch}: how many queued publishes one
 *   commit takes, by what each adds at most against KV's limits per commit
 *   ({@linkcode KV_COMMIT_LIMITS}: checks, mutations, key bytes, total bytes) with the
 *   pointer of every shard touched; {@linkcode cannotCommit}: a message too big even
 *   alone, refused before it is queued.
 * - {@linkcode planReads}: what a commit must read first (idempotency markers, shard
 *   pointers, channel heads).
 * - {@linkcode planCommit}: from what was read, the offsets each message gets per
 *   channel (a headless channel starts an epoch), the publishes answered by an
 *   idempotency key committed before or repeated in the batch, the checks (shard
 *   pointers, absent markers) and the writes (history, heads, markers, log entries per
 *   shard, pointers) with their expiries.
 *
 * The key layout itself (which key holds what) is documented with the key builders.
 */
import {
  busHeadKey,
  busHistoryKey,
  busIdempotencyKey,
  busLogKey,
  busPointerKey,
} from "../kv/keys.ts";
import type { BusMessage, HistoryPolicy } from "./engine.ts";
import { storedSizeBound } from "./stored_size.ts";

/** Number of shards (one `kv.watch` takes at most 10 keys). */
export const SHARDS = 8;
/** How long log entries are kept: an isolate stalled longer than this sees a gap. */
export const LOG_TTL_MS = 10 * 60_000;
/**
 * How much longer than its newest message a channel's head lives. Also the clock skew
 * between isolates that the empty-epoch argument (kv_bus.ts, `emptyEpoch`) tolerates.
 */
export const HEAD_TTL_MARGIN_MS = 60_000;
/** How long a publish's idempotency key is remembered. */
export const IDEMPOTENCY_TTL_MS = 10 * 60_000;
/**
 * Largest message the bus accepts, in bytes of KV's encoding (V8 serialization, see
 * lib/bus/stored_size.ts): KV values are at most 64 KiB, and a message alone in a log
 * entry must still fit.
 */
export const MAX_MESSAGE_BYTES = 60 * 1024;
/** Bytes of messages per log entry at most (a message larger than this goes alone). */
export const MAX_LOG_ENTRY_BYTES = 56 * 1024;

/** KV's limits on one atomic commit (what {@linkcode takeBatch} fills up to). */
export interface CommitLimits {
  /** Checks (versionstamp conditions). */
  checks: number;
  /** Mutations (sets and deletes). */
  mutations: number;
  /** Bytes of the encoded keys of checks and mutations. */
  keyBytes: number;
  /** Bytes of keys and values together. */
  totalBytes: number;
}

/**
 * Deno KV's limits per atomic commit: 100 checks, 1 000 mutations, 80 KiB of keys,
 * 800 KiB in all.
 */
export const KV_COMMIT_LIMITS: Readonly<CommitLimits> = Object.freeze({
  checks: 100,
  mutations: 1_000,
  keyBytes: 80 * 1024,
  totalBytes: 800 * 1024,
});
/** Deno KV's largest key, encoded bytes. */
export const KV_MAX_KEY_BYTES = 2_048;
/** Deno KV's largest value, bytes of its V8 serialization. */
export const KV_MAX_VALUE_BYTES = 64 * 1024;

/** What a commit, or a publish's share of it, takes of each limit (at most). */
export type CommitCost = CommitLimits;

/** A channel's head as stored: its epoch, last offset and the time of that message. */
export interface ChannelHead {
  epoch: string;
  offset: number;
  ts: number;
}

/** What an idempotency key's marker holds: the position its publish was committed at. */
export type IdempotencyMarker = Omit<BusMessage, "data">;

/** One publish as the planner sees it. */
export interface PlannedPublish {
  channel: string;
  data: unknown;
  from?: string;
  fromName?: string;
  /** Commits once per channel and key within {@linkcode IDEMPOTENCY_TTL_MS}. */
  idempotencyKey?: string;
  /** Bytes KV stores for the message: an upper bound (exact near the limit). */
  bytes: number;
}

/** A publish waiting in the queue, with its cost from {@linkcode publishCost}. */
export interface QueuedPublish {
  channel: string;
  cost: CommitCost;
}

/** One write of a plan: a subset of `Deno.KvMutation`, applied in order. */
export type KvWrite =
  | { type: "set"; key: Deno.KvKey; value: unknown; expireIn?: number }
  | { type: "delete"; key: Deno.KvKey };

/** A shard's pointer as read: the seq of its newest log entry (0 and null when absent). */
export interface ShardPointer {
  seq: number;
  versionstamp: string | null;
}

/** The messages of one shard that a commit logs, `from` being the first entry's seq. */
export interface ShardLog {
  shard: number;
  from: number;
  entries: BusMessage[][];
}

/** FNV-1a of the channel name, modulo {@linkcode SHARDS}. */
export function shardOf(channel: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < channel.length; i++) {
    h ^= channel.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % SHARDS;
}

/** How long a channel's head lives after a write; undefined: for ever (no history TTL). */
export function headTtlMs(policy: HistoryPolicy): number | undefined {
  return policy.size > 0 && policy.ttlMs > 0 ? policy.ttlMs + HEAD_TTL_MARGIN_MS : undefined;
}

// ---- sizes -----------------------------------------------------------------------------

const utf8 = new TextEncoder();

/**
 * The bytes of `key` in KV's encoding (the tuple layer): per part a type byte, then a
 * string's or bytes' content with each NUL escaped to two bytes and an end byte, a
 * number's 8 bytes, a bigint's magnitude with its length.
 */
export function kvKeyBytes(key: Deno.KvKey): number {
  let bytes = 0;
  for (const part of key) {
    if (typeof part === "string" || part instanceof Uint8Array) {
      const raw = typeof part === "string" ? utf8.encode(part) : part;
      let nuls = 0;
      for (const b of raw) if (b === 0) nuls++;
      bytes += 2 + raw.length + nuls;
    } else if (typeof part === "number") {
      bytes += 9;
    } else if (typeof part === "bigint") {
      const magnitude = part < 0n ? -part : part;
      bytes += 2 + Math.ceil(magnitude.toString(16).length / 2);
    } else {
      bytes += 1;
    }
  }
  return bytes;
}

/** A head's stored bytes at most (a 12-character epoch; numbers take 9 bytes at most). */
const HEAD_VALUE_BYTES = storedSizeBound({ epoch: "x".repeat(12), offset: 0, ts: 0 });
/** A pointer's stored bytes at most. */
const POINTER_VALUE_BYTES = storedSizeBound({ seq: 0 });
/** What a message adds to a log entry besides its own bytes: the array around it, its index. */
const LOG_SLOT_BYTES = 16;

const ZERO: CommitCost = Object.freeze({ checks: 0, mutations: 0, keyBytes: 0, totalBytes: 0 });

function add(a: CommitCost, b: CommitCost): CommitCost {
  return {
    checks: a.checks + b.checks,
    mutations: a.mutations + b.mutations,
    keyBytes: a.keyBytes + b.keyBytes,
    totalBytes: a.totalBytes + b.totalBytes,
  };
}

/** The first limit `cost` exceeds, or null. */
function exceeded(cost: CommitCost, limits: CommitLimits): keyof CommitLimits | null {
  for (const name of ["checks", "mutations", "keyBytes", "totalBytes"] as const) {
    if (cost[name] > limits[name]) return name;
  }
  return null;
}

/** Counts a check of `key` (KV counts its key in the key and the total bytes). */
function check(key: Deno.KvKey): CommitCost {
  const k = kvKeyBytes(key);
  return { checks: 1, mutations: 0, keyBytes: k, totalBytes: k };
}

/** Counts a set of `valueBytes` at `key` (its key counts twice in the total, as KV does). */
function set(key: Deno.KvKey, valueBytes: number): CommitCost {
  const k = kvKeyBytes(key);
  return { checks: 0, mutations: 1, keyBytes: k, totalBytes: 2 * k + valueBytes };
}

/** Counts a delete of `key`. */
function del(key: Deno.KvKey): CommitCost {
  const k = kvKeyBytes(key);
  return { checks: 0, mutations: 1, keyBytes: k, totalBytes: k };
}

/** What the pointer of one shard adds to a commit: its check and its set. */
export function shardCost(shard: number): CommitCost {
  const key = busPointerKey(shard);
  return add(check(key), set(key, POINTER_VALUE_BYTES));
}

/**
 * What one publish adds to a commit, at most: its history entry and the deletion of the
 * entry `size` back (when the channel keeps history), its channel's head, its slot in a
 * log entry (as if alone in one), and its idempotency marker with the check of its
 * absence. Offsets and sequence numbers take the most bytes a number takes.
 */
export function publishCost(
  publish: Pick<PlannedPublish, "channel" | "idempotencyKey" | "bytes">,
  keepsHistory: boolean,
): CommitCost {
  const { channel, idempotencyKey, bytes } = publish;
  let cost = add(
    set(busHeadKey(channel), HEAD_VALUE_BYTES),
    set(busLogKey(shardOf(channel), 0), bytes + LOG_SLOT_BYTES),
  );
  if (keepsHistory) {
    const history = busHistoryKey(channel, 0);
    cost = add(cost, add(set(history, bytes), del(history)));
  }
  if (idempotencyKey !== undefined) {
    const marker = busIdempotencyKey(channel, idempotencyKey);
    // The marker is the message without its data: never more bytes than the message.
    cost = add(cost, add(check(marker), set(marker, bytes)));
  }
  return cost;
}

/**
 * Why a publish can never be committed, or null: the message is over
 * {@linkcode MAX_MESSAGE_BYTES}, one of its keys over {@linkcode KV_MAX_KEY_BYTES}, or it
 * exceeds a commit's limits alone (with its shard's pointer).
 */
export function cannotCommit(
  publish: Pick<PlannedPublish, "channel" | "idempotencyKey" | "bytes">,
  keepsHistory: boolean,
  limits: CommitLimits = KV_COMMIT_LIMITS,
): string | null {
  const { channel, idempotencyKey, bytes } = publish;
  if (bytes > MAX_MESSAGE_BYTES) {
    return `${bytes} bytes stored exceeds the bus limit of ${MAX_MESSAGE_BYTES}`;
  }
  const keys = [busHeadKey(channel), busHistoryKey(channel, 0)];
  if (idempotencyKey !== undefined) keys.push(busIdempotencyKey(channel, idempotencyKey));
  const longest = Math.max(...keys.map(kvKeyBytes));
  if (longest > KV_MAX_KEY_BYTES) {
    return `a key of ${longest} bytes exceeds KV's limit of ${KV_MAX_KEY_BYTES}`;
  }
  const alone = add(publishCost(publish, keepsHistory), shardCost(shardOf(channel)));
  const limit = exceeded(alone, limits);
  return limit ? `alone it exceeds a commit's ${limit} (${alone[limit]} > ${limits[limit]})` : null;
}

/**
 * How many publishes from the head of `queue` one commit takes: as many as fit `limits`
 * together with the pointer of every shard they touch, in queue order; always at least
 * one (a publish too big alone goes alone, for KV to refuse it alone).
 */
export function takeBatch(
  queue: readonly QueuedPublish[],
  limits: CommitLimits = KV_COMMIT_LIMITS,
): number {
  let total = ZERO;
  const shards = new Set<number>();
  let n = 0;
  for (; n < queue.length; n++) {
    const shard = shardOf(queue[n].channel);
    let next = add(total, queue[n].cost);
    if (!shards.has(shard)) next = add(next, shardCost(shard));
    if (n > 0 && exceeded(next, limits)) break;
    total = next;
    shards.add(shard);
  }
  return n;
}

// ---- reads and the plan ----------------------------------------------------------------

/** Where a publish's idempotency marker is scoped (channel and key), or undefined. */
export function idempotencyScope(publish: PlannedPublish): string | undefined {
  return publish.idempotencyKey === undefined
    ? undefined
    : JSON.stringify([publish.channel, publish.idempotencyKey]);
}

/** What a commit of `batch` reads first. */
export interface CommitReads {
  /** One idempotency marker per scope ({@linkcode idempotencyScope}), with its key. */
  markers: { scope: string; key: Deno.KvKey }[];
  /** The shards touched, ascending. */
  shards: number[];
  /** The channels published to, in first-publish order. */
  channels: string[];
}

/** The keys a commit of `batch` must read before {@linkcode planCommit}. */
export function planReads(batch: readonly PlannedPublish[]): CommitReads {
  const markers = new Map<string, Deno.KvKey>();
  for (const p of batch) {
    const scope = idempotencyScope(p);
    if (scope !== undefined && !markers.has(scope)) {
      markers.set(scope, busIdempotencyKey(p.channel, p.idempotencyKey!));
    }
  }
  const channels = [...new Set(batch.map((p) => p.channel))];
  return {
    markers: [...markers].map(([scope, key]) => ({ scope, key })),
    shards: [...new Set(channels.map(shardOf))].sort((a, b) => a - b),
    channels,
  };
}

/** What {@linkcode planCommit} decides from. */
export interface CommitInput<P extends PlannedPublish> {
  /** The publishes, in the order their offsets are assigned. */
  batch: readonly P[];
  /** The idempotency markers found, by scope; a scope missing here was read absent. */
  markers: ReadonlyMap<string, IdempotencyMarker>;
  /** The pointer of every shard the batch touches, as read. */
  pointers: ReadonlyMap<number, ShardPointer>;
  /** The heads found of the batch's channels; a channel missing here starts an epoch. */
  heads: ReadonlyMap<string, ChannelHead>;
  historyOf(channel: string): HistoryPolicy;
  /** The commit's time, ms since 1970: every message's `ts`. */
  now: number;
  /** A new epoch for a channel without a head. */
  newEpoch(): string;
}

/** A publish and the message it resolves with. */
export interface Placed<P> {
  publish: P;
  message: BusMessage;
}

/** One commit, decided: what it answers, checks and writes. */
export interface CommitPlan<P> {
  /** Publishes whose key was committed before: answered with that position now. */
  answered: Placed<P>[];
  /** Publishes this commit writes, in batch order, with the message each becomes. */
  committed: Placed<P>[];
  /** Later publishes of a key within the batch: answered with its first's position. */
  repeats: Placed<P>[];
  /** The shard pointers read, and the absence of every marker written. */
  checks: Deno.AtomicCheck[];
  writes: KvWrite[];
  /** The log entries written per shard, ascending by shard. */
  logs: ShardLog[];
}

/**
 * Plans one commit of `input.batch` from the state read: offsets follow each channel's
 * head (or start at 1 in a new epoch), history entries expire with the channel's TTL and
 * the entry `size` back is deleted, heads expire {@linkcode HEAD_TTL_MARGIN_MS} after
 * their newest message, markers after {@linkcode IDEMPOTENCY_TTL_MS}, and each shard's
 * messages go to log entries of at most {@linkcode MAX_LOG_ENTRY_BYTES} (a larger message
 * alone) after its pointer, which is advanced. Nothing to write (every publish answered
 * or repeated) plans no checks and no writes.
 */
export function planCommit<P extends PlannedPublish>(input: CommitInput<P>): CommitPlan<P> {
  const { batch, markers, pointers, heads, historyOf, now: ts } = input;
  const answered: Placed<P>[] = [];
  const committed: Placed<P>[] = [];
  const firstOf = new Map<string, BusMessage>();
  const repeatsOf: { publish: P; scope: string }[] = [];
  const nextHeads = new Map<string, ChannelHead>();
  const writes: KvWrite[] = [];
  for (const p of batch) {
    const scope = idempotencyScope(p);
    if (scope !== undefined) {
      const marker = markers.get(scope);
      if (marker) {
        answered.push({ publish: p, message: { ...marker, data: p.data } });
        continue;
      }
      if (firstOf.has(scope)) {
        repeatsOf.push({ publish: p, scope });
        continue;
      }
    }
    const head = nextHeads.get(p.channel) ?? heads.get(p.channel) ??
      { epoch: input.newEpoch(), offset: 0, ts };
    const message: BusMessage = {
      channel: p.channel,
      epoch: head.epoch,
      offset: head.offset + 1,
      ts,
      data: p.data,
      ...(p.from ? { from: p.from } : {}),
      ...(p.fromName ? { fromName: p.fromName } : {}),
    };
    nextHeads.set(p.channel, { epoch: head.epoch, offset: message.offset, ts });
    committed.push({ publish: p, message });
    if (scope !== undefined) firstOf.set(scope, message);
    const history = historyOf(p.channel);
    if (history.size > 0) {
      writes.push({
        type: "set",
        key: busHistoryKey(p.channel, message.offset),
        value: message,
        expireIn: history.ttlMs,
      });
      const drop = message.offset - history.size;
      if (drop >= 1) writes.push({ type: "delete", key: busHistoryKey(p.channel, drop) });
    }
  }
  const repeats = repeatsOf.map(({ publish, scope }) => ({
    publish,
    message: { ...firstOf.get(scope)!, data: publish.data },
  }));
  if (committed.length === 0) {
    return { answered, committed, repeats, checks: [], writes: [], logs: [] };
  }

  for (const [channel, head] of nextHeads) {
    // Lives as long as the channel's newest message, plus a margin.
    const expireIn = headTtlMs(historyOf(channel));
    writes.push({
      type: "set",
      key: busHeadKey(channel),
      value: head,
      ...(expireIn === undefined ? {} : { expireIn }),
    });
  }
  // Idempotency markers: read absent, checked absent, so a concurrent publish of the
  // same key on another isolate makes one of the two commits fail and retry.
  const checks: Deno.AtomicCheck[] = [];
  for (const { publish, message } of committed) {
    if (publish.idempotencyKey === undefined) continue;
    const key = busIdempotencyKey(publish.channel, publish.idempotencyKey);
    const { data: _data, ...position } = message;
    checks.push({ key, versionstamp: null });
    writes.push({ type: "set", key, value: position, expireIn: IDEMPOTENCY_TTL_MS });
  }
  const logs: ShardLog[] = [];
  const shards = [...new Set(committed.map((c) => shardOf(c.message.channel)))].sort((a, b) =>
    a - b
  );
  for (const shard of shards) {
    const entries: BusMessage[][] = [[]];
    let bytes = 0;
    for (const { publish, message } of committed) {
      if (shardOf(message.channel) !== shard) continue;
      if (bytes + publish.bytes > MAX_LOG_ENTRY_BYTES && entries.at(-1)!.length > 0) {
        entries.push([]);
        bytes = 0;
      }
      entries.at(-1)!.push(message);
      bytes += publish.bytes;
    }
    const pointer = pointers.get(shard) ?? { seq: 0, versionstamp: null };
    checks.push({ key: busPointerKey(shard), versionstamp: pointer.versionstamp });
    const from = pointer.seq + 1;
    entries.forEach((messages, k) => {
      writes.push({
        type: "set",
        key: busLogKey(shard, from + k),
        value: messages,
        expireIn: LOG_TTL_MS,
      });
    });
    writes.push({
      type: "set",
      key: busPointerKey(shard),
      value: { seq: from + entries.length - 1 },
    });
    logs.push({ shard, from, entries });
  }
  return { answered, committed, repeats, checks, writes, logs };
}
