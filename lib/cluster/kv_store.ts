/**
 * The cluster's state on Deno KV (the default engine): every isolate of every process
 * sharing the KV sees the same liveness records, presence entries, connection slots,
 * attempt counters and leases. Keys: lib/kv/keys.ts (`["cluster", …]`).
 *
 * Costs, in KV operations: a beat is one read and one write (plus one list of the
 * liveness records by the caller); a presence batch is one commit per 200 writes; a slot
 * reservation is one list of the user's slots and one checked commit (retried on
 * contention); a release is one commit; an attempt begins and ends with one read of its
 * keys and one checked commit each.
 *
 * @module
 */
import type {
  AttemptGrant,
  AttemptKey,
  AttemptOutcome,
  AttemptRefusal,
  AttemptStore,
  Usage,
} from "../auth/attempts.ts";
import { MAX_ATTEMPT_KEY_CHARS } from "../auth/attempts.ts";
import {
  attemptKey,
  clusterIsolateKey,
  clusterIsolatePrefix,
  ownedKey,
  ownedPrefix,
  presenceEntryKey,
  presenceEntryPrefix,
  presenceRevKey,
  slotKey,
  slotPrefix,
} from "../kv/keys.ts";
import { kvLeases } from "../kv/lease.ts";
import {
  type ClusterStore,
  type IsolateRecord,
  PRESENCE_SHARDS,
  type PresenceEntry,
  presenceShard,
  type PresenceWrite,
} from "./types.ts";

/** Options of {@linkcode createKvClusterStore}. */
export interface KvClusterStoreOptions {
  kv: Deno.Kv;
  /** This isolate (its attempts in flight are kept apart). */
  isolate: string;
  /** Clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /**
   * How long an attempt in flight stays reserved without its end being recorded (an
   * isolate that died mid-attempt, a lost write), ms. Default 60 000.
   */
  attemptHoldMs?: number;
  /** Errors of background work (a watch that will be restarted, an attempt's end). */
  onError?: (err: unknown) => void;
}

/** Checked commits tried before giving up on contention. */
const MAX_CONFLICTS = 50;
/** Writes per presence commit (2 mutations each, plus ≤ 8 counters: < KV's 1 000). */
const PRESENCE_BATCH = 200;
/** How long a user's reservation counter lives after its last reservation. */
const SLOT_GUARD_TTL_MS = 60 * 60_000;

interface StoredPresence {
  name: string;
  connections: number;
}

/** An attempt counter: a fixed window and the reservations in flight per isolate. */
interface AttemptRecord {
  endsAt: number;
  counted: number;
  inFlight: Record<string, { n: number; until: number }>;
}

async function backoff(attempt: number): Promise<void> {
  await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 * attempt)));
}

function conflicted(what: string): Error {
  return new Error(`Cannot ${what}: ${MAX_CONFLICTS} commits conflicted in a row`);
}

/** Runs `task`s one after the other (a KV commit contending with itself is wasted work). */
function serial(): <T>(task: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>) => {
    const run = tail.then(task, task);
    tail = run.catch(() => {});
    return run;
  };
}

/** The cluster's state on `kv`. */
export function createKvClusterStore(options: KvClusterStoreOptions): ClusterStore {
  const { kv, isolate } = options;
  const now = options.now ?? Date.now;
  const onError = options.onError ?? (() => {});
  const holdMs = options.attemptHoldMs ?? 60_000;
  const revKeys = Array.from({ length: PRESENCE_SHARDS }, (_, i) => presenceRevKey(i));
  const attemptsInOrder = serial();

  // ---- liveness ------------------------------------------------------------------------

  async function beat(record: IsolateRecord): Promise<boolean> {
    const key = clusterIsolateKey(record.isolate);
    const previous = await kv.get<IsolateRecord>(key);
    await kv.set(key, record);
    return previous.value !== null && previous.value.expiresAt >= now();
  }

  async function isolates(limit: number): Promise<IsolateRecord[]> {
    const out: IsolateRecord[] = [];
    for await (const e of kv.list<IsolateRecord>({ prefix: clusterIsolatePrefix() }, { limit })) {
      out.push(e.value);
    }
    return out;
  }

  async function sweep(dead: string, max: number): Promise<number> {
    const owned: Deno.KvKey[] = [];
    for await (const e of kv.list({ prefix: ownedPrefix(dead) }, { limit: max })) {
      owned.push(e.key);
    }
    for (let i = 0; i < owned.length; i += PRESENCE_BATCH) {
      const op = kv.atomic();
      const shards = new Set<number>();
      for (const key of owned.slice(i, i + PRESENCE_BATCH)) {
        const [kind, a, b] = key.slice(3) as string[];
        if (kind === "p") {
          op.delete(presenceEntryKey(a, b, dead));
          shards.add(presenceShard(a));
        } else if (kind === "s") {
          op.delete(slotKey(a, dead));
        }
        op.delete(key);
      }
      for (const shard of shards) op.sum(presenceRevKey(shard), 1n);
      await op.commit();
    }
    return owned.length;
  }

  async function forget(dead: string, expiredBy: number): Promise<void> {
    const key = clusterIsolateKey(dead);
    const entry = await kv.get<IsolateRecord>(key);
    if (entry.value === null || entry.value.expiresAt > expiredBy) return;
    await kv.atomic().check(entry).delete(key).commit();
  }

  // ---- presence ------------------------------------------------------------------------

  async function writePresence(from: string, writes: readonly PresenceWrite[]): Promise<void> {
    for (let i = 0; i < writes.length; i += PRESENCE_BATCH) {
      const op = kv.atomic();
      const shards = new Set<number>();
      for (const w of writes.slice(i, i + PRESENCE_BATCH)) {
        const entry = presenceEntryKey(w.channel, w.userId, from);
        const owned = ownedKey(from, "p", w.channel, w.userId);
        if (w.connections > 0) {
          op.set(entry, { name: w.name, connections: w.connections } satisfies StoredPresence);
          op.set(owned, 1);
        } else {
          op.delete(entry);
          op.delete(owned);
        }
        shards.add(presenceShard(w.channel));
      }
      for (const shard of shards) op.sum(presenceRevKey(shard), 1n);
      await op.commit();
    }
  }

  async function listPresence(channel: string, limit: number): Promise<PresenceEntry[]> {
    const out: PresenceEntry[] = [];
    const iter = kv.list<StoredPresence>({ prefix: presenceEntryPrefix(channel) }, { limit });
    for await (const e of iter) {
      const [userId, from] = e.key.slice(3) as string[];
      out.push({ channel, userId, isolate: from, ...e.value });
    }
    return out;
  }

  async function presenceRevs(): Promise<number[]> {
    const entries = await kv.getMany<Deno.KvU64[]>(revKeys);
    return entries.map((e) => Number(e.value?.value ?? 0n));
  }

  function watchPresence(onChange: () => void, signal: AbortSignal): void {
    (async () => {
      while (!signal.aborted) {
        const reader = kv.watch(revKeys).getReader();
        const cancel = () => reader.cancel().catch(() => {});
        signal.addEventListener("abort", cancel, { once: true });
        try {
          for (;;) {
            const { done } = await reader.read();
            if (done) break;
            onChange();
          }
        } catch (err) {
          if (!signal.aborted) onError(err);
        } finally {
          signal.removeEventListener("abort", cancel);
          reader.releaseLock();
        }
        if (!signal.aborted) await new Promise((r) => setTimeout(r, 100));
      }
    })();
  }

  // ---- slots ---------------------------------------------------------------------------

  async function readSlots(userId: string) {
    let guard: Deno.KvEntryMaybe<number> | null = null;
    const counts: { isolate: string; connections: number }[] = [];
    // One list is one snapshot: the counter and every isolate's count together.
    for await (const e of kv.list<number>({ prefix: slotPrefix(userId) }, { limit: 1_000 })) {
      const part = e.key[3];
      if (part === 0) guard = e;
      else counts.push({ isolate: String(part), connections: e.value });
    }
    guard ??= { key: slotKey(userId, 0), value: null, versionstamp: null };
    return { guard, counts };
  }

  async function reserveSlot(
    userId: string,
    owner: string,
    connections: number,
    max: number,
    isDead: (isolate: string) => boolean,
  ): Promise<boolean> {
    for (let attempt = 1; attempt <= MAX_CONFLICTS; attempt++) {
      const { guard, counts } = await readSlots(userId);
      let others = 0;
      for (const c of counts) {
        if (c.isolate !== owner && !isDead(c.isolate)) others += c.connections;
      }
      if (others + connections > max) return false;
      const result = await kv.atomic()
        .check(guard)
        .set(guard.key, (guard.value ?? 0) + 1, { expireIn: SLOT_GUARD_TTL_MS })
        .set(slotKey(userId, owner), connections)
        .set(ownedKey(owner, "s", userId), 1)
        .commit();
      if (result.ok) return true;
      await backoff(attempt);
    }
    throw conflicted(`reserve a connection of ${userId}`);
  }

  async function setSlot(userId: string, owner: string, connections: number): Promise<void> {
    const op = kv.atomic();
    if (connections > 0) {
      op.set(slotKey(userId, owner), connections).set(ownedKey(owner, "s", userId), 1);
    } else {
      op.delete(slotKey(userId, owner)).delete(ownedKey(owner, "s", userId));
    }
    await op.commit();
  }

  async function slotsOf(userId: string, isDead: (isolate: string) => boolean): Promise<number> {
    const { counts } = await readSlots(userId);
    return counts.reduce((n, c) => n + (isDead(c.isolate) ? 0 : c.connections), 0);
  }

  // ---- attempts ------------------------------------------------------------------------

  /** The record as of `t`: a window that ended restarts its count, stale holds are dropped. */
  function live(record: AttemptRecord | null, t: number, windowMs: number): AttemptRecord {
    const inFlight: AttemptRecord["inFlight"] = {};
    for (const [id, hold] of Object.entries(record?.inFlight ?? {})) {
      if (hold.n > 0 && hold.until > t) inFlight[id] = hold;
    }
    if (!record || record.endsAt <= t) return { endsAt: t + windowMs, counted: 0, inFlight };
    return { endsAt: record.endsAt, counted: record.counted, inFlight };
  }

  function usageOf(record: AttemptRecord): Usage {
    let inFlight = 0;
    for (const hold of Object.values(record.inFlight)) inFlight += hold.n;
    return { counted: record.counted, inFlight };
  }

  const keyOf = (k: { scope: string; key: string }) =>
    attemptKey(k.scope, k.key.slice(0, MAX_ATTEMPT_KEY_CHARS));

  async function begin(
    keys: readonly AttemptKey[],
    windowMs: number,
  ): Promise<AttemptGrant | AttemptRefusal> {
    const kvKeys = keys.map(keyOf);
    for (let attempt = 1; attempt <= MAX_CONFLICTS; attempt++) {
      const entries = await kv.getMany<AttemptRecord[]>(kvKeys);
      const t = now();
      const records = entries.map((e) => live(e.value, t, windowMs));
      const before = records.map(usageOf);
      let wait = 0;
      records.forEach((r, i) => {
        const used = before[i].counted + before[i].inFlight;
        if (used >= keys[i].budget) wait = Math.max(wait, r.endsAt - t);
      });
      if (wait > 0) return { ok: false, retryAfterSec: Math.max(1, Math.ceil(wait / 1000)) };
      const op = kv.atomic();
      records.forEach((r, i) => {
        const mine = r.inFlight[isolate];
        r.inFlight[isolate] = { n: (mine?.n ?? 0) + 1, until: t + holdMs };
        op.check(entries[i]).set(kvKeys[i], r, { expireIn: r.endsAt - t + holdMs });
      });
      if ((await op.commit()).ok) return grant(keys, kvKeys, windowMs, before);
      await backoff(attempt);
    }
    throw conflicted("reserve a sign-in attempt");
  }

  function grant(
    keys: readonly AttemptKey[],
    kvKeys: Deno.KvKey[],
    windowMs: number,
    before: Usage[],
  ): AttemptGrant {
    let ended: Promise<void> | undefined;
    return {
      ok: true,
      before,
      end(outcome) {
        ended ??= attemptsInOrder(() => finish(keys, kvKeys, windowMs, outcome)).catch(onError);
        return ended;
      },
    };
  }

  async function finish(
    keys: readonly AttemptKey[],
    kvKeys: Deno.KvKey[],
    windowMs: number,
    outcome: AttemptOutcome,
  ): Promise<void> {
    for (let attempt = 1; attempt <= MAX_CONFLICTS; attempt++) {
      const entries = await kv.getMany<AttemptRecord[]>(kvKeys);
      const t = now();
      const op = kv.atomic();
      entries.forEach((e, i) => {
        const r = live(e.value, t, windowMs);
        const mine = r.inFlight[isolate];
        if (mine && mine.n > 1) r.inFlight[isolate] = { n: mine.n - 1, until: mine.until };
        else delete r.inFlight[isolate];
        if (outcome.counted) r.counted++;
        if (outcome.reset?.includes(keys[i].scope)) r.counted = 0;
        op.check(e).set(kvKeys[i], r, { expireIn: r.endsAt - t + holdMs });
      });
      if ((await op.commit()).ok) return;
      await backoff(attempt);
    }
    throw conflicted("end a sign-in attempt");
  }

  const attempts: AttemptStore = {
    begin: (keys, windowMs) => attemptsInOrder(() => begin(keys, windowMs)),
    async usage(key, windowMs) {
      const entry = await kv.get<AttemptRecord>(keyOf(key));
      return usageOf(live(entry.value, now(), windowMs));
    },
    size: 0,
  };

  return {
    engine: "kv",
    beat,
    isolates,
    sweep,
    forget,
    writePresence,
    listPresence,
    presenceRevs,
    watchPresence,
    reserveSlot,
    setSlot,
    slotsOf,
    attempts,
    leases: kvLeases(kv, now),
    close: () => Promise.resolve(),
  };
}
