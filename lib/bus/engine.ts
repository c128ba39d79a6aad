/**
 * The bus: cross-isolate fan-out with an ordered, bounded history per channel. An engine
 * gives every published message a per-channel offset within an epoch, keeps the last
 * messages of each channel, and hands every message to every isolate in order.
 */

/** A channel's position: its epoch and an offset within it. */
export interface Position {
  /** Changes only when the channel's history was lost. */
  epoch: string;
  /** The offset of the last message (0 before the first). */
  offset: number;
}

/** A published message as the bus carries it. */
export interface BusMessage {
  channel: string;
  epoch: string;
  offset: number;
  /** ms since the epoch, when the message was committed. */
  ts: number;
  data: unknown;
  /** The user id of the publishing client, if a client published it. */
  from?: string;
}

/**
 * The answer to a recovery request: everything after `since`, or nothing (never a
 * partial replay) when the history does not reach back that far or the epoch changed.
 */
export type Recovery =
  | { recovered: true; position: Position; messages: BusMessage[] }
  | { recovered: false; position: Position };

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
}

/** A bus engine (KV today; Redis later). */
export interface BusEngine {
  /**
   * Publishes; resolves with the committed message (offset assigned). Publishes with the
   * same `idempotencyKey` within 10 minutes are committed once; repeats resolve with the
   * first one's position.
   */
  publish(
    channel: string,
    data: unknown,
    options?: { from?: string; idempotencyKey?: string },
  ): Promise<BusMessage>;
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
