/**
 * The engine side of cluster-wide state: {@linkcode ClusterStore} is what one engine (Deno
 * KV: kv_store.ts; Redis: redis_store.ts) stores for every isolate and process — liveness,
 * presence entries, per-user connection slots, attempt counters and leases. The logic on
 * top (heartbeats, views, diffs, sweeping) is engine-free: state.ts, presence.ts, slots.ts.
 *
 * @module
 */
import type { AttemptStore } from "../auth/attempts.ts";
import type { Leases } from "../kv/lease.ts";

/** Which engine holds the cluster's state. */
export type ClusterEngine = "kv" | "redis";

/** An isolate's liveness: it is alive while `expiresAt` is ahead (every beat moves it). */
export interface IsolateRecord {
  isolate: string;
  /** ms since the epoch; after it, the isolate is dead and its entries are swept. */
  expiresAt: number;
  startedAt: number;
}

/** One user present on one channel through one isolate. */
export interface PresenceEntry {
  channel: string;
  userId: string;
  isolate: string;
  name: string;
  /** That isolate's connections of the user subscribed to the channel. */
  connections: number;
}

/** What an isolate writes of one user on one channel: its count now (0: gone). */
export interface PresenceWrite {
  channel: string;
  userId: string;
  name: string;
  connections: number;
}

/** Shards of presence change counters (one `kv.watch` takes at most 10 keys). */
export const PRESENCE_SHARDS = 8;

/** The presence shard of `channel` (FNV-1a of its UTF-16 units). */
export function presenceShard(channel: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < channel.length; i++) {
    h ^= channel.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % PRESENCE_SHARDS;
}

/**
 * What an engine stores for the cluster. Every method may reject on an engine failure;
 * the callers (state.ts, presence.ts, slots.ts) retry or fall back and log.
 */
export interface ClusterStore {
  readonly engine: ClusterEngine;

  // ---- liveness ------------------------------------------------------------------------

  /**
   * Writes this isolate's record. Resolves `true` when the previous record was there and
   * unexpired (the beat kept the isolate alive), `false` when it was missing or expired:
   * others may have dropped (or swept) its entries, which must then be written again.
   */
  beat(record: IsolateRecord): Promise<boolean>;
  /** Every liveness record (alive and dead-but-not-swept), at most `limit`. */
  isolates(limit: number): Promise<IsolateRecord[]>;
  /**
   * Deletes up to `max` of the presence and slot entries `isolate` wrote; resolves how
   * many it deleted (0: none left). Never touches another isolate's entries.
   */
  sweep(isolate: string, max: number): Promise<number>;
  /** Deletes `isolate`'s record unless it was renewed past `expiredBy` meanwhile. */
  forget(isolate: string, expiredBy: number): Promise<void>;

  // ---- presence ------------------------------------------------------------------------

  /** Applies `writes` of `isolate` (0 connections: delete) and bumps their shards' counters. */
  writePresence(isolate: string, writes: readonly PresenceWrite[]): Promise<void>;
  /** The channel's entries (every isolate's, dead ones included), at most `limit`. */
  listPresence(channel: string, limit: number): Promise<PresenceEntry[]>;
  /** The {@linkcode PRESENCE_SHARDS} change counters. */
  presenceRevs(): Promise<number[]>;
  /**
   * Calls `onChange` soon after a counter moved, where the engine can push (KV `watch`
   * within one process); polling {@linkcode presenceRevs} covers the rest. Stops with `signal`.
   */
  watchPresence?(onChange: () => void, signal: AbortSignal): void;

  // ---- per-user connection slots ---------------------------------------------------------

  /**
   * Sets `isolate`'s count of `userId` to `connections` when the other isolates' counts
   * (dead isolates' left out: `isDead`) plus `connections` stay within `max`; atomic
   * against every other reservation of the user. Resolves whether it did.
   */
  reserveSlot(
    userId: string,
    isolate: string,
    connections: number,
    max: number,
    isDead: (isolate: string) => boolean,
  ): Promise<boolean>;
  /** Sets `isolate`'s count of `userId` (0: delete), unchecked (counts only go down here). */
  setSlot(userId: string, isolate: string, connections: number): Promise<void>;
  /** The user's connections on every isolate that is not dead. */
  slotsOf(userId: string, isDead: (isolate: string) => boolean): Promise<number>;

  // ---- counters and leases -----------------------------------------------------------------

  /** Failed-sign-in counters (lib/auth/attempts.ts), shared by every isolate. */
  readonly attempts: AttemptStore;
  /** Singleton leases (market, chain, alerts). */
  readonly leases: Leases;

  /** Stops watches and timers of the store (not the engine's connection, which the caller owns). */
  close(): Promise<void>;
}
