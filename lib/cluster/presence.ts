/**
 * Cluster-wide presence for the hub ({@linkcode PresenceTracker}): who is subscribed to a
 * presence channel on any isolate of any process sharing the engine.
 *
 * - **Writes**: this isolate keeps its own members in memory (lib/gateway/presence.ts)
 *   and writes one entry per user and channel — its connection count — when that count
 *   changes (subscribe / unsubscribe, never per message), batched: changes made while a
 *   write is in flight go together in the next one. At most `maxMembers` users per
 *   channel are written by one isolate (more are counted here, not listed elsewhere).
 * - **Views**: for each channel with members here, the isolate holds the other isolates'
 *   entries, read when the view is created and again when the channel's shard counter
 *   moves (KV `watch` within a process, a poll of the counters every `pollMs` across
 *   processes and on Redis), at most once per `minRefreshMs`. Entries of dead isolates
 *   (lib/cluster/state.ts) are left out at once.
 * - **Join / leave**: each isolate tells its own subscribers when a user enters or leaves
 *   its view of the cluster: a user's first connection anywhere is one `join`, the last
 *   one leaving anywhere (or its isolate dying) is one `leave`. A remote change reaches
 *   other isolates' subscribers within one refresh.
 *
 * @module
 */
import {
  Presence,
  type PresenceAnnouncer,
  type PresenceChange,
  type PresenceList,
  type PresenceTracker,
} from "../gateway/presence.ts";
import type { PresenceMember } from "../protocol/messages.ts";
import type { Cluster, ClusterLog } from "./state.ts";
import { type PresenceEntry, presenceShard, type PresenceWrite } from "./types.ts";

/** Options of {@linkcode createClusterPresence}. */
export interface ClusterPresenceOptions {
  cluster: Cluster;
  /** Users listed per channel, and written per channel by one isolate (`WS_MAX_PRESENCE_MEMBERS`). */
  maxMembers: number;
  /** Entries (user × isolate) read per channel at most. Default min(10 000, 8 × `maxMembers`). */
  maxEntries?: number;
  /**
   * How often the shard counters are polled while this isolate has views, ms (KV `watch`
   * answers sooner within one process; the poll is what reaches across processes, as the
   * KV bus's does). Default 500.
   */
  pollMs?: number;
  /**
   * Shortest time between two reads of one channel's entries, ms; a read that took `d` ms
   * also waits 10 × `d` before the next (a big room read on a busy engine costs at most
   * about a tenth of a core). Default 100.
   */
  minRefreshMs?: number;
  /** Pause before a failed write or read is tried again, ms. Default 1 000. */
  retryMs?: number;
  log?: ClusterLog;
}

/** Counters of {@linkcode ClusterPresence.stats}. */
export interface ClusterPresenceStats {
  /** Channels with a view here (those with members here). */
  views: number;
  /** Entry writes committed (one per changed user and channel). */
  writes: number;
  /** Write commits (batches). */
  batches: number;
  /** Reads of a channel's entries. */
  reads: number;
  /** Failed writes or reads (retried). */
  failures: number;
}

/** Cluster-wide presence of one isolate. */
export interface ClusterPresence {
  /** The hub's tracker (`HubOptions.presence`); call once. */
  tracker(announce: PresenceAnnouncer): PresenceTracker;
  /** Resolves once pending writes are committed and stale views read again (tests). */
  settle(): Promise<void>;
  stats(): ClusterPresenceStats;
  /** Stops polling and watching; waits for a write in flight. */
  close(): Promise<void>;
}

interface RemoteUser {
  name: string;
  byIsolate: Map<string, number>;
}

interface View {
  channel: string;
  shard: number;
  /** Other isolates' users (from the last read, minus isolates that died since). */
  remote: Map<string, RemoteUser>;
  /** The users this isolate's subscribers were told are present (user → name). */
  shown: Map<string, string>;
  /** The last read hit `maxEntries`. */
  cut: boolean;
  loaded: boolean;
  ready: Promise<void>;
  loadedNow: () => void;
  reading: Promise<void> | null;
  again: boolean;
  lastRead: number;
  /** How long the last read took, ms. */
  lastCost: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Creates this isolate's cluster-wide presence. */
export function createClusterPresence(options: ClusterPresenceOptions): ClusterPresence {
  const { cluster } = options;
  const { store, isolate: me } = cluster;
  const maxMembers = options.maxMembers;
  const maxEntries = options.maxEntries ?? Math.min(10_000, 8 * maxMembers);
  const pollMs = options.pollMs ?? 500;
  const minRefreshMs = options.minRefreshMs ?? 100;
  const retryMs = options.retryMs ?? 1_000;
  const log = options.log;
  const local = new Presence(maxMembers);
  const views = new Map<string, View>();
  const stats = { writes: 0, batches: 0, reads: 0, failures: 0 };
  let announce: PresenceAnnouncer = () => {};
  let closed = false;

  // ---- writing this isolate's entries ----------------------------------------------------

  /** (channel, user) pairs whose count changed since the last write. */
  const dirty = new Map<string, { channel: string; userId: string }>();
  /** Per channel, the users this isolate has an entry for. */
  const written = new Map<string, Set<string>>();
  /** Channels where more users are here than `maxMembers` (some not written). */
  const overflow = new Set<string>();
  let flushing: Promise<void> | null = null;
  let flushTimer: ReturnType<typeof setTimeout> | undefined;

  function markDirty(channel: string, userId: string): void {
    dirty.set(`${channel}\n${userId}`, { channel, userId });
    if (!flushing && flushTimer === undefined && !closed) flushTimer = setTimeout(flush, 0);
  }

  function flush(): Promise<void> {
    flushTimer = undefined;
    if (flushing) return flushing;
    if (dirty.size === 0) return Promise.resolve();
    const batch = [...dirty.values()];
    dirty.clear();
    const writes: PresenceWrite[] = [];
    const added: [string, string][] = [];
    const removed: [string, string][] = [];
    const planned = new Map<string, number>();
    for (const { channel, userId } of batch) {
      const member = local.members(channel).get(userId);
      const w = written.get(channel);
      if (member) {
        const size = (w?.size ?? 0) + (planned.get(channel) ?? 0);
        if (!w?.has(userId)) {
          if (size >= maxMembers) {
            overflow.add(channel);
            continue;
          }
          planned.set(channel, (planned.get(channel) ?? 0) + 1);
          added.push([channel, userId]);
        }
        writes.push({ channel, userId, name: member.name, connections: member.connections });
      } else if (w?.has(userId)) {
        writes.push({ channel, userId, name: "", connections: 0 });
        removed.push([channel, userId]);
      }
    }
    if (writes.length === 0) return Promise.resolve();
    flushing = store.writePresence(me, writes).then(
      () => {
        stats.writes += writes.length;
        stats.batches++;
        for (const [channel, userId] of added) {
          let w = written.get(channel);
          if (!w) written.set(channel, w = new Set());
          w.add(userId);
        }
        for (const [channel, userId] of removed) {
          const w = written.get(channel);
          w?.delete(userId);
          if (w?.size === 0) written.delete(channel);
          if (overflow.has(channel)) promote(channel);
        }
      },
      (err) => {
        stats.failures++;
        log?.warn("presence write failed; retrying", { err });
        for (const b of batch) {
          const key = `${b.channel}\n${b.userId}`;
          if (!dirty.has(key)) dirty.set(key, b);
        }
        if (!closed) flushTimer = setTimeout(flush, retryMs);
      },
    ).finally(() => {
      flushing = null;
      if (dirty.size > 0 && flushTimer === undefined && !closed) flushTimer = setTimeout(flush, 0);
    });
    return flushing;
  }

  /** A written user of an overflowing channel left: write one that was not. */
  function promote(channel: string): void {
    const w = written.get(channel);
    for (const userId of local.members(channel).keys()) {
      if (!w?.has(userId) && !dirty.has(`${channel}\n${userId}`)) return markDirty(channel, userId);
    }
    overflow.delete(channel);
  }

  // ---- reading the others' entries ---------------------------------------------------------

  function viewOf(channel: string): View {
    let view = views.get(channel);
    if (view) return view;
    const loaded = Promise.withResolvers<void>();
    view = {
      channel,
      shard: presenceShard(channel),
      remote: new Map(),
      shown: new Map(),
      cut: false,
      loaded: false,
      ready: loaded.promise,
      loadedNow: loaded.resolve,
      reading: null,
      again: false,
      lastRead: -Infinity,
      lastCost: 0,
      timer: undefined,
    };
    views.set(channel, view);
    read(view);
    return view;
  }

  function drop(view: View): void {
    if (views.get(view.channel) !== view) return;
    views.delete(view.channel);
    clearTimeout(view.timer);
    view.timer = undefined;
  }

  function remoteUsers(entries: PresenceEntry[]): Map<string, RemoteUser> {
    const remote = new Map<string, RemoteUser>();
    for (const e of entries) {
      if (e.isolate === me || e.connections <= 0 || cluster.isDead(e.isolate)) continue;
      let user = remote.get(e.userId);
      if (!user) remote.set(e.userId, user = { name: e.name, byIsolate: new Map() });
      user.byIsolate.set(e.isolate, e.connections);
    }
    return remote;
  }

  /** Reads the channel's entries (one read at a time per view, at most every `minRefreshMs`). */
  function read(view: View): void {
    if (closed || views.get(view.channel) !== view) return;
    if (view.reading) {
      view.again = true;
      return;
    }
    // Pacing is in real time (performance.now), whatever clock the cluster runs on.
    const wait = view.lastRead + Math.max(minRefreshMs, 10 * view.lastCost) - performance.now();
    if (wait > 0 && view.loaded) {
      view.timer ??= setTimeout(() => {
        view.timer = undefined;
        read(view);
      }, wait);
      return;
    }
    const started = view.lastRead = performance.now();
    stats.reads++;
    view.reading = store.listPresence(view.channel, maxEntries).then(
      (entries) => {
        view.lastCost = performance.now() - started;
        apply(view, entries);
      },
      (err) => {
        stats.failures++;
        log?.warn("presence read failed; retrying", { channel: view.channel, err });
        // A view that never loaded answers from this isolate alone meanwhile.
        if (!view.loaded) apply(view, []);
        view.again = false;
        view.timer ??= setTimeout(() => {
          view.timer = undefined;
          read(view);
        }, retryMs);
      },
    ).finally(() => {
      view.reading = null;
      if (view.again) {
        view.again = false;
        read(view);
      }
    });
  }

  function apply(view: View, entries: PresenceEntry[]): void {
    view.remote = remoteUsers(entries);
    view.cut = entries.length >= maxEntries;
    if (!view.loaded) {
      // The first read is silent: these users were present before anyone here subscribed.
      for (const [userId, user] of view.remote) view.shown.set(userId, user.name);
      view.loaded = true;
      view.loadedNow();
      return;
    }
    reconcile(view);
  }

  function remotelyPresent(view: View, userId: string): boolean {
    const user = view.remote.get(userId);
    if (!user) return false;
    for (const [id, n] of user.byIsolate) if (n > 0 && !cluster.isDead(id)) return true;
    return false;
  }

  /** Announces the difference between what was shown and who is present now. */
  function reconcile(view: View): void {
    if (views.get(view.channel) !== view) return;
    const members = local.members(view.channel);
    for (const [userId, name] of [...view.shown]) {
      if (members.has(userId) || remotelyPresent(view, userId)) continue;
      view.shown.delete(userId);
      announce(view.channel, "left", { userId, name });
    }
    for (const [userId, user] of view.remote) {
      if (view.shown.has(userId) || !remotelyPresent(view, userId)) continue;
      view.shown.set(userId, user.name);
      announce(view.channel, "joined", { userId, name: user.name });
    }
  }

  // ---- the tracker ---------------------------------------------------------------------

  function decideJoin(view: View, userId: string, name: string): PresenceChange {
    if (view.shown.has(userId) || !local.members(view.channel).has(userId)) return "unchanged";
    view.shown.set(userId, name);
    return "joined";
  }

  function decideLeave(view: View, userId: string): PresenceChange {
    const members = local.members(view.channel);
    let change: PresenceChange = "unchanged";
    if (!members.has(userId) && !remotelyPresent(view, userId) && view.shown.delete(userId)) {
      change = "left";
    }
    if (members.size === 0) drop(view);
    return change;
  }

  function build(
    order: Iterable<[string, string]>,
    remote: Map<string, RemoteUser>,
    channel: string,
    cut: boolean,
  ): PresenceList {
    const members = local.members(channel);
    const out: PresenceMember[] = [];
    let count = 0;
    for (const [userId, name] of order) {
      count++;
      if (out.length >= maxMembers) continue;
      let connections = members.get(userId)?.connections ?? 0;
      for (const [id, n] of remote.get(userId)?.byIsolate ?? []) {
        if (!cluster.isDead(id)) connections += n;
      }
      out.push({ userId, name, connections });
    }
    return { count, members: out, truncated: cut || count > out.length };
  }

  const tracker: PresenceTracker = {
    join(channel, userId, name) {
      const change = local.join(channel, userId, name);
      markDirty(channel, userId);
      if (change !== "joined") return "unchanged";
      const view = viewOf(channel);
      if (view.loaded) return decideJoin(view, userId, name);
      return view.ready.then(() => decideJoin(view, userId, name));
    },
    leave(channel, userId) {
      const change = local.leave(channel, userId);
      markDirty(channel, userId);
      const view = views.get(channel);
      if (change !== "left" || !view) return "unchanged";
      if (view.loaded) return decideLeave(view, userId);
      return view.ready.then(() => decideLeave(view, userId));
    },
    list(channel) {
      const view = views.get(channel);
      if (view?.loaded) return build(view.shown, view.remote, channel, view.cut);
      return store.listPresence(channel, maxEntries).then((entries) => {
        const remote = remoteUsers(entries);
        const order = new Map<string, string>();
        for (const [userId, m] of local.members(channel)) order.set(userId, m.name);
        for (const [userId, user] of remote) if (!order.has(userId)) order.set(userId, user.name);
        return build(order, remote, channel, entries.length >= maxEntries);
      });
    },
    count(channel) {
      return views.get(channel)?.shown.size ?? local.count(channel);
    },
  };

  // ---- change detection ------------------------------------------------------------------

  let revs: number[] | null = null;
  let polling: Promise<void> | null = null;
  let pollAgain = false;

  function poll(): void {
    if (closed || views.size === 0) return;
    if (polling) {
      pollAgain = true;
      return;
    }
    polling = store.presenceRevs().then(
      (next) => {
        const changed = new Set<number>();
        next.forEach((rev, shard) => {
          if (revs === null || rev !== revs[shard]) changed.add(shard);
        });
        revs = next;
        if (changed.size === 0) return;
        for (const view of views.values()) if (changed.has(view.shard)) read(view);
      },
      (err) => {
        stats.failures++;
        log?.warn("presence poll failed", { err });
      },
    ).finally(() => {
      polling = null;
      if (pollAgain) {
        pollAgain = false;
        poll();
      }
    });
  }

  const poller = setInterval(poll, pollMs);
  const watchAbort = new AbortController();
  store.watchPresence?.(poll, watchAbort.signal);

  const unlisten = cluster.listen({
    died(isolates) {
      for (const view of views.values()) {
        for (const [userId, user] of view.remote) {
          for (const id of isolates) user.byIsolate.delete(id);
          if (user.byIsolate.size === 0) view.remote.delete(userId);
        }
        if (view.loaded) reconcile(view);
      }
    },
    revived() {
      for (const view of views.values()) read(view);
    },
    resync() {
      written.clear();
      overflow.clear();
      for (const channel of local.channels()) {
        for (const userId of local.members(channel).keys()) markDirty(channel, userId);
      }
    },
  });

  return {
    tracker(announcer) {
      announce = announcer;
      return tracker;
    },
    async settle() {
      for (let i = 0; i < 100 && (flushing || dirty.size > 0); i++) {
        await (flushing ?? flush());
      }
      poll();
      while (polling) await polling;
      for (const view of views.values()) {
        while (view.reading) await view.reading;
        view.lastRead = -Infinity;
        read(view);
        while (view.reading) await view.reading;
      }
    },
    stats() {
      return { views: views.size, ...stats };
    },
    async close() {
      closed = true;
      clearInterval(poller);
      clearTimeout(flushTimer);
      watchAbort.abort();
      unlisten();
      for (const view of views.values()) clearTimeout(view.timer);
      await flushing;
      await polling;
      await Promise.all([...views.values()].map((v) => v.reading));
    },
  };
}
