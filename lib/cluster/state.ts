/**
 * Liveness of the cluster's isolates, on any {@linkcode ClusterStore}: each isolate writes
 * one record every `beatMs` (one write, whatever it holds: its presence and slot entries
 * are not refreshed one by one), and counts as dead once its record is older than
 * `ttlMs`. Everyone ignores a dead isolate's entries at once (reads filter them); the
 * live isolate with the smallest id sweeps them from the store, a bounded batch per beat,
 * then forgets the isolate. An isolate that finds its own record expired (a stall longer
 * than the TTL) writes everything again ("resync"), since others may have swept it.
 *
 * @module
 */
import type { ClusterStore, IsolateRecord } from "./types.ts";

/** The tiny logger the cluster needs. */
export interface ClusterLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** What the presence and slot layers are told about liveness. */
export interface LivenessListener {
  /** These isolates died (or were forgotten) since the last beat. */
  died?(isolates: readonly string[]): void;
  /** These isolates, dead at the last beat, beat again. */
  revived?(isolates: readonly string[]): void;
  /** This isolate's record had expired: write every entry of this isolate again. */
  resync?(): void;
}

/** Options of {@linkcode createCluster}. */
export interface ClusterOptions {
  store: ClusterStore;
  /** This isolate's id (unique in the cluster). */
  isolate: string;
  /** How often this isolate writes its record, ms. Default 2 000. */
  beatMs?: number;
  /** How long after its last beat an isolate counts as dead, ms. Default 5 × `beatMs`. */
  ttlMs?: number;
  /** Entries of one dead isolate swept per beat. Default 500. */
  sweepBatch?: number;
  /** Liveness records read per beat at most. Default 1 000. */
  maxIsolates?: number;
  /** Clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
  log?: ClusterLog;
}

/** Counters of {@linkcode Cluster.stats}. */
export interface ClusterStats {
  engine: string;
  /** Isolates alive at the last beat (this one included). */
  alive: number;
  /** Dead isolates not yet swept. */
  dead: number;
  beats: number;
  beatFailures: number;
  resyncs: number;
  swept: number;
}

/** One isolate's handle on the cluster's liveness. */
export interface Cluster {
  readonly store: ClusterStore;
  readonly isolate: string;
  readonly ttlMs: number;
  /** Whether `isolate`'s record had expired as of now (unknown isolates are alive). */
  isDead(isolate: string): boolean;
  /** Adds a listener; returns a function that removes it. */
  listen(listener: LivenessListener): () => void;
  /** Writes the first record (before any entry of this isolate) and starts the beat. */
  start(): Promise<void>;
  /** One beat now (tests; the timer calls it every `beatMs`). */
  beat(): Promise<void>;
  stats(): ClusterStats;
  /** Stops the beat, deletes this isolate's entries and record. Idempotent. */
  close(): Promise<void>;
}

/** Creates this isolate's {@linkcode Cluster}; call `start()` before writing entries. */
export function createCluster(options: ClusterOptions): Cluster {
  const { store, isolate } = options;
  const beatMs = options.beatMs ?? 2_000;
  const ttlMs = options.ttlMs ?? beatMs * 5;
  const sweepBatch = options.sweepBatch ?? 500;
  const maxIsolates = options.maxIsolates ?? 1_000;
  const now = options.now ?? Date.now;
  const log = options.log;
  const startedAt = now();
  const listeners = new Set<LivenessListener>();
  /** Every record read at the last beat: isolate → expiresAt. */
  let known = new Map<string, number>();
  /** Isolates this one has seen dead (and told its listeners about). */
  const deadSeen = new Set<string>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let beating: Promise<void> | null = null;
  let closed: Promise<void> | undefined;
  const stats = { beats: 0, beatFailures: 0, resyncs: 0, swept: 0 };

  const isDead = (id: string) => {
    if (id === isolate) return false;
    const expiresAt = known.get(id);
    return expiresAt !== undefined && expiresAt < now();
  };

  function emit(fn: (l: LivenessListener) => void): void {
    for (const l of listeners) {
      try {
        fn(l);
      } catch (err) {
        log?.warn("cluster listener failed", { err });
      }
    }
  }

  async function writeRecord(): Promise<boolean> {
    const record: IsolateRecord = { isolate, expiresAt: now() + ttlMs, startedAt };
    return await store.beat(record);
  }

  async function beatOnce(first: boolean): Promise<void> {
    stats.beats++;
    const kept = await writeRecord();
    if (!kept && !first) {
      stats.resyncs++;
      log?.warn("cluster: this isolate's record had expired; writing its entries again", {
        isolate,
      });
      emit((l) => l.resync?.());
    }
    const t = now();
    const records = await store.isolates(maxIsolates);
    const next = new Map(records.map((r) => [r.isolate, r.expiresAt]));
    next.set(isolate, t + ttlMs);
    const died: string[] = [];
    const revived: string[] = [];
    for (const [id, expiresAt] of next) {
      if (id === isolate) continue;
      if (expiresAt < t && !deadSeen.has(id)) {
        deadSeen.add(id);
        died.push(id);
      } else if (expiresAt >= t && deadSeen.delete(id)) revived.push(id);
    }
    for (const id of known.keys()) {
      if (next.has(id) || id === isolate) continue;
      // Forgotten (swept) without this isolate seeing it expire: dead too.
      if (!deadSeen.delete(id)) died.push(id);
    }
    known = next;
    if (died.length > 0) emit((l) => l.died?.(died));
    if (revived.length > 0) emit((l) => l.revived?.(revived));
    if (!first) await sweepDead(records, t);
  }

  /** The live isolate with the smallest id sweeps; a bounded batch per dead isolate. */
  async function sweepDead(records: IsolateRecord[], t: number): Promise<void> {
    const dead = records.filter((r) => r.expiresAt < t && r.isolate !== isolate);
    if (dead.length === 0) return;
    const alive = records.filter((r) => r.expiresAt >= t).map((r) => r.isolate);
    alive.push(isolate);
    alive.sort();
    if (alive[0] !== isolate) return;
    for (const r of dead) {
      const n = await store.sweep(r.isolate, sweepBatch);
      stats.swept += n;
      if (n === 0) {
        await store.forget(r.isolate, t);
        log?.info("cluster: swept a dead isolate", { dead: r.isolate });
      }
    }
  }

  function tick(): void {
    if (beating || closed) return;
    beating = beatOnce(false)
      .catch((err) => {
        stats.beatFailures++;
        log?.warn("cluster beat failed", { err });
      })
      .finally(() => beating = null);
  }

  return {
    store,
    isolate,
    ttlMs,
    isDead,
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async start() {
      if (timer !== undefined) return;
      await beatOnce(true);
      timer = setInterval(tick, beatMs);
    },
    async beat() {
      while (beating) await beating;
      beating = beatOnce(false).finally(() => beating = null);
      await beating;
    },
    stats() {
      const t = now();
      let alive = 0;
      for (const expiresAt of known.values()) if (expiresAt >= t) alive++;
      return { engine: store.engine, alive, dead: known.size - alive, ...stats };
    },
    close() {
      closed ??= (async () => {
        clearInterval(timer);
        while (beating) await beating.catch(() => {});
        try {
          while (await store.sweep(isolate, sweepBatch) > 0);
          await store.forget(isolate, Infinity);
        } catch (err) {
          log?.warn("cluster: could not remove this isolate's entries", { err });
        }
        await store.close();
      })();
      return closed;
    },
  };
}
