/**
 * Per-user connection caps counted cluster-wide: the admission's {@linkcode UserSlots}
 * and the hub's {@linkcode ConnectionObserver} in one. Each isolate writes, per user, how
 * many connections it holds (open plus admitted-but-not-yet-open); a reservation checks
 * the others' counts and raises its own in one atomic step of the store, so the N+1th
 * connection of a user is refused whichever isolate it reaches, even when they race.
 *
 * Cost: one store round trip (KV: a list and a checked commit) per connect of a signed-in
 * user, one (a commit) per disconnect; nothing per message. A reservation that never
 * becomes a connection lapses after `pendingMs`. When the store fails, the cap falls back
 * to this isolate's own count (logged and counted), rather than refusing everyone.
 *
 * @module
 */
import type { UserSlots } from "../gateway/admission.ts";
import type { Connection, ConnectionObserver } from "../gateway/hub.ts";
import type { Cluster, ClusterLog } from "./state.ts";

/** Options of {@linkcode createConnectionSlots}. */
export interface ConnectionSlotsOptions {
  cluster: Cluster;
  /** How long an admitted connection may take to open before its slot lapses, ms. Default 30 000. */
  pendingMs?: number;
  /** Pause before a failed count write is tried again, ms. Default 1 000. */
  retryMs?: number;
  now?: () => number;
  log?: ClusterLog;
}

/** Counters of {@linkcode ConnectionSlots.stats}. */
export interface ConnectionSlotsStats {
  /** Users with connections (or reservations) here. */
  users: number;
  reserved: number;
  refused: number;
  /** Reservations decided on this isolate's count alone (the store failed). */
  fallbacks: number;
  lapsed: number;
  writeFailures: number;
}

/** Cluster-wide per-user connection counts of one isolate. */
export interface ConnectionSlots extends UserSlots, ConnectionObserver {
  /** The user's connections on every live isolate, as the store has them. */
  count(userId: string): Promise<number>;
  /** Resolves once every pending count write is done (tests). */
  settle(): Promise<void>;
  stats(): ConnectionSlotsStats;
  close(): Promise<void>;
}

/** Creates this isolate's {@linkcode ConnectionSlots}. */
export function createConnectionSlots(options: ConnectionSlotsOptions): ConnectionSlots {
  const { cluster } = options;
  const { store, isolate: me } = cluster;
  const pendingMs = options.pendingMs ?? 30_000;
  const retryMs = options.retryMs ?? 1_000;
  const now = options.now ?? Date.now;
  const log = options.log;
  const open = new Map<string, number>();
  /** Admitted connections not yet open: their deadlines, oldest first. */
  const pending = new Map<string, number[]>();
  const chains = new Map<string, Promise<unknown>>();
  const failed = new Set<string>();
  const stats = { reserved: 0, refused: 0, fallbacks: 0, lapsed: 0, writeFailures: 0 };
  let closed = false;

  const here = (userId: string) => (open.get(userId) ?? 0) + (pending.get(userId)?.length ?? 0);
  const isDead = (id: string) => cluster.isDead(id);

  /** Runs `task` after the user's previous one: a user's writes never overtake each other. */
  function inOrder<T>(userId: string, task: () => Promise<T>): Promise<T> {
    const previous = chains.get(userId) ?? Promise.resolve();
    const run = previous.then(task, task);
    const tail = run.catch(() => {});
    chains.set(userId, tail);
    tail.then(() => {
      if (chains.get(userId) === tail) chains.delete(userId);
    });
    return run;
  }

  /** Writes this isolate's current count of the user (whatever it is when the write runs). */
  function write(userId: string): void {
    inOrder(userId, async () => {
      try {
        await store.setSlot(userId, me, here(userId));
        failed.delete(userId);
      } catch (err) {
        stats.writeFailures++;
        if (!failed.has(userId)) log?.warn("connection count write failed; retrying", { err });
        failed.add(userId);
      }
    });
  }

  function forget(userId: string): void {
    if ((open.get(userId) ?? 0) <= 0) open.delete(userId);
    if (pending.get(userId)?.length === 0) pending.delete(userId);
  }

  const timer = setInterval(() => {
    const t = now();
    for (const [userId, deadlines] of pending) {
      const kept = deadlines.filter((d) => d > t);
      if (kept.length === deadlines.length) continue;
      stats.lapsed += deadlines.length - kept.length;
      pending.set(userId, kept);
      forget(userId);
      write(userId);
    }
    for (const userId of failed) write(userId);
  }, Math.max(100, Math.min(retryMs, pendingMs / 3)));

  const unlisten = cluster.listen({
    resync() {
      for (const userId of new Set([...open.keys(), ...pending.keys()])) write(userId);
    },
  });

  return {
    reserve(userId, max) {
      return inOrder(userId, async () => {
        const next = here(userId) + 1;
        let ok: boolean;
        if (next > max) ok = false;
        else {
          try {
            ok = await store.reserveSlot(userId, me, next, max, isDead);
          } catch (err) {
            stats.fallbacks++;
            log?.warn("connection cap: the cluster store failed, counting this isolate only", {
              err,
            });
            ok = true; // next ≤ max here
            failed.add(userId);
          }
        }
        if (!ok) {
          stats.refused++;
          return false;
        }
        stats.reserved++;
        let deadlines = pending.get(userId);
        if (!deadlines) pending.set(userId, deadlines = []);
        deadlines.push(now() + pendingMs);
        return true;
      });
    },
    opened(conn: Connection) {
      if (conn.principal.anonymous) return;
      const userId = conn.principal.userId;
      open.set(userId, (open.get(userId) ?? 0) + 1);
      // Its reservation becomes the connection: the count is unchanged. A connection
      // admitted without one (another admission path) is written now.
      if (pending.get(userId)?.shift() === undefined) write(userId);
      forget(userId);
    },
    closed(conn: Connection) {
      if (conn.principal.anonymous) return;
      const userId = conn.principal.userId;
      open.set(userId, (open.get(userId) ?? 0) - 1);
      forget(userId);
      if (!closed) write(userId);
    },
    count: (userId) => store.slotsOf(userId, isDead),
    async settle() {
      while (chains.size > 0) await Promise.all(chains.values());
    },
    stats() {
      return { users: new Set([...open.keys(), ...pending.keys()]).size, ...stats };
    },
    async close() {
      closed = true;
      clearInterval(timer);
      unlisten();
      while (chains.size > 0) await Promise.all(chains.values());
    },
  };
}
