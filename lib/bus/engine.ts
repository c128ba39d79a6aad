/**
 * The bus: cross-isolate fan-out with an ordered, bounded history per channel. An engine
 * gives every published message a per-channel offset within an epoch, keeps the last
 * messages of each channel, and hands every message to every isolate in order.
 */

import type { Position, Recovery as RecoveryOf } from "../protocol/position.ts";

export type { Position } from "../protocol/position.ts";

/** A published message as the bus carries it, at its position in the channel. */
export interface BusMessage extends Position {
  channel: string;
  /** ms since the epoch, when the message was committed. */
  ts: number;
  data: unknown;
  /** The user id of the publishing client, if a client published it. */
  from?: string;
  /** The publishing client's account name (unique), attached by the server. */
  fromName?: string;
}

/**
 * A message the bus will never store: too large for a KV value, nested too deep, or not
 * a JSON-like value. Only that publish fails — never the others committed with it — and
 * repeating it cannot succeed.
 */
export class BusRejection extends Error {
  constructor(readonly reason: "too_large" | "unstorable", message: string) {
    super(message);
    this.name = "BusRejection";
  }
}

/** Who published a message, and how to commit it once (see {@linkcode BusEngine.publish}). */
export interface PublishOptions {
  /** The publishing client's user id. */
  from?: string;
  /** The publishing client's account name. */
  fromName?: string;
  /**
   * Publishes with the same key on the same channel within 10 minutes are committed once;
   * the same key on another channel is another publish.
   */
  idempotencyKey?: string;
  /**
   * A latest value (a price, a status): while it waits for its commit, a newer latest publish
   * on the same channel replaces it — it is never stored or delivered, and its promise
   * resolves with the newer message. Under overload the bus then commits the newest value of
   * each channel, not every value late. Ignored with `idempotencyKey`.
   */
  latest?: boolean;
}

/**
 * The answer to a recovery request, with the bus's messages: everything after `since`, or
 * nothing (lib/protocol/position.ts).
 */
export type Recovery = RecoveryOf<BusMessage>;

/** Which page of a channel's history to read. */
export interface HistoryQuery {
  /** Messages at most (the newest ones of the range). */
  limit: number;
  /** Only messages with an offset below this one (paging back); default: up to the newest. */
  before?: number;
}

/** A page of a channel's history: its current position and the messages, oldest first. */
export interface HistoryPage {
  position: Position;
  messages: BusMessage[];
}

/** History bounds of one channel (from its namespace policy). */
export interface HistoryPolicy {
  /** Messages kept; 0 = no history (positions are still tracked). */
  size: number;
  /** How long a message is kept, ms. */
  ttlMs: number;
}

/** Counters of an engine. */
export interface BusStats {
  /** Which engine: `kv` or `redis`. */
  engine: string;
  /** Whether the engine's store answers (false while its connection is lost or stalled). */
  up: boolean;
  published: number;
  delivered: number;
  commits: number;
  /** Messages per commit: the last commit's and the largest so far. */
  lastBatch: number;
  maxBatch: number;
  conflicts: number;
  recoveries: { recovered: number; notRecovered: number };
  /** Log entries that had expired before this isolate read them (ordered delivery broke). */
  gaps: number;
  /** Publishes answered from their idempotency key instead of being committed again. */
  duplicates: number;
  /** Publishes refused because the message can never be stored ({@linkcode BusRejection}). */
  rejected: number;
  /** Batches split in halves after a commit failed on what it wrote (one bad message). */
  isolations: number;
}

/** Fresh counters for an engine named `engine`. */
export function newBusStats(engine: string): BusStats {
  return {
    engine,
    up: true,
    published: 0,
    delivered: 0,
    commits: 0,
    lastBatch: 0,
    maxBatch: 0,
    conflicts: 0,
    recoveries: { recovered: 0, notRecovered: 0 },
    gaps: 0,
    duplicates: 0,
    rejected: 0,
    isolations: 0,
  };
}

/** A bus engine: KV (lib/bus/kv_bus.ts) or Redis (lib/bus/redis_bus.ts). */
export interface BusEngine {
  /**
   * Publishes `data` (a JSON-like value); resolves with the committed message (offset
   * assigned). Publishes with the same `idempotencyKey` on the same channel within 10
   * minutes are committed once; repeats resolve with the first one's position. Rejects
   * with {@linkcode BusRejection} a message that can never be stored; any other rejection
   * is temporary (storage unavailable, contention).
   */
  publish(channel: string, data: unknown, options?: PublishOptions): Promise<BusMessage>;
  /** Receives every message of every channel once, in order per channel, in this isolate. */
  onMessage(listener: (message: BusMessage) => void): void;
  /**
   * Called when this isolate missed log entries (it fell behind more than the log's time
   * to live): ordered delivery for the channels of `shard` cannot be guaranteed.
   */
  onGap(listener: (shard: number, shardOf: (channel: string) => number) => void): void;
  /** Everything after `since`, all or nothing. */
  recover(channel: string, since: Position): Promise<Recovery>;
  /** The channel's current position. */
  position(channel: string): Promise<Position>;
  /**
   * The newest `limit` messages (with offsets below `before`, if given) that the channel
   * still keeps within its size and time bounds, oldest first, with its current position.
   */
  history(channel: string, query: HistoryQuery): Promise<HistoryPage>;
  stats(): BusStats;
  /** Stops watching; pending publishes are committed first. */
  close(): Promise<void>;
}
