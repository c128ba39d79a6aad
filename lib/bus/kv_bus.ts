/**
 * The KV bus engine.
 *
 * Publishing: publishes made in the same tick are group-committed — one atomic commit
 * writes, for every message, its history entry (`["bus","h",channel,offset]`, expiring,
 * the entry `size` back deleted) and the channel's head; for every shard touched, one or
 * more log entries (`["bus","log",shard,seq]`) holding the messages and the shard's
 * pointer (`["bus","ptr",shard]`), checked so that concurrent publishers on other
 * isolates serialize per shard. A channel belongs to one of {@linkcode SHARDS} shards.
 * What a commit reads, checks and writes, and how many publishes it takes, is planned
 * without KV by lib/bus/commit_plan.ts; this module reads, writes the plan, retries on
 * contention and delivers.
 *
 * Delivering: every isolate watches the shard pointers (one `kv.watch` of 8 keys; watch
 * coalesces, so it reads the log range it has not seen yet) and emits the logged
 * messages in log order, hence in offset order per channel. The publishing isolate emits
 * its own commit at once, first catching up on older log entries of the shard so that
 * nothing is reordered. Each shard is processed by one serial queue.
 *
 * Isolation: every message is measured at `publish` (lib/bus/stored_size.ts) and one KV
 * cannot store is refused there, alone, with {@linkcode BusRejection}; batches are cut by
 * what KV will really write against its limits per commit (checks, mutations, key and
 * total bytes). Should a commit still fail on what it writes,
 * its batch is split in halves, committed one after the other (offsets stay in order),
 * until the message at fault fails alone, permanently.
 *
 * Heads: a channel's head (epoch, last offset) is written only with a message and
 * expires {@linkcode HEAD_TTL_MARGIN_MS} after its newest message would, so a room whose
 * messages have all expired leaves nothing in KV. A channel without a head reports offset
 * 0 of an epoch that is stored nowhere (see `emptyEpoch`); reading, subscribing and
 * recovering never write.
 */
import { busHeadKey, busHistoryKey, busLogKey, busPointerKey } from "../kv/keys.ts";
import {
  type BusEngine,
  type BusMessage,
  BusRejection,
  type BusStats,
  type HistoryPage,
  type HistoryPolicy,
  type HistoryQuery,
  newBusStats,
  type PublishOptions,
  type Recovery,
} from "./engine.ts";
import {
  cannotCommit,
  type ChannelHead,
  type CommitCost,
  type CommitPlan,
  headTtlMs,
  type IdempotencyMarker,
  MAX_MESSAGE_BYTES,
  planCommit,
  type PlannedPublish,
  planReads,
  publishCost,
  shardOf,
  type ShardPointer,
  SHARDS,
  takeBatch,
} from "./commit_plan.ts";
import { storedSize, UnstorableValueError } from "./stored_size.ts";
import { createGroupCommit, latestKey, settleWithNewer } from "./group_commit.ts";
import type { Position } from "../protocol/position.ts";

export {
  HEAD_TTL_MARGIN_MS,
  IDEMPOTENCY_TTL_MS,
  LOG_TTL_MS,
  MAX_MESSAGE_BYTES,
  shardOf,
  SHARDS,
} from "./commit_plan.ts";

/** Most messages one history read returns. */
export const MAX_HISTORY_READ = 1_000;
const MAX_COMMIT_ATTEMPTS = 30;
/** Heads of our own last commits kept in memory (the most recently written). */
const MAX_OWN_HEADS = 10_000;

/** A shard's pointer as our own last commit left it (lib/bus/kv_bus.ts `ownPointers`). */
interface OwnPointer extends ShardPointer {
  versionstamp: string;
  /** The versionstamp of the first of our commits on the shard since another's. */
  since: string;
}

interface PendingPublish extends PlannedPublish {
  /** What it adds to a commit at most (lib/bus/commit_plan.ts). */
  cost: CommitCost;
  /** A newer latest publish on the channel may replace it while it waits (PublishOptions). */
  latest?: boolean;
  resolve(message: BusMessage): void;
  reject(err: unknown): void;
}

/** Why a commit failed: reading state, writing (the values or the limits), or contention. */
class CommitError extends Error {
  constructor(readonly phase: "read" | "write" | "conflict", cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** KV refuses a write for what it holds (size, count, serialization): not an outage. */
function isValueError(err: unknown): boolean {
  return err instanceof TypeError || err instanceof RangeError;
}

/** Options of {@linkcode createKvBus}. */
export interface KvBusOptions {
  kv: Deno.Kv;
  /** History bounds per channel (from the namespace policies). */
  historyOf: (channel: string) => HistoryPolicy;
  /** Clock; default `Date.now`. */
  now?: () => number;
  /** Errors that did not stop the bus (a watch that will be restarted, a listener that threw). */
  onError?: (err: unknown) => void;
  /**
   * Also read the shard pointers every `pollMs` (0 = never). `kv.watch` on a local file
   * notifies the isolates of one process only; the poll lets several processes share one
   * file (at up to `pollMs` more latency), and covers a backend whose watch stalls.
   * Default 500.
   */
  pollMs?: number;
}

function newEpoch(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 12);
}

/**
 * The epoch of a channel without a head: `v` and the number of whole history TTLs since
 * 1970 (base 36), `v` alone when heads never expire. Never a stored epoch (those are 12
 * hex digits). A client that saw (`vK`, 0) can only find the channel headless again after
 * a head created since then expired, at least TTL + margin later: in a later period, so
 * the epoch differs and recovery answers `recovered: false` — never a silent gap.
 */
function emptyEpoch(policy: HistoryPolicy, now: number): string {
  return headTtlMs(policy) === undefined ? "v" : `v${Math.floor(now / policy.ttlMs).toString(36)}`;
}

/**
 * `kv.getMany` of any number of keys: chunks of 10 (KV's bound), all in flight at once — one
 * wait instead of one per chunk, which on a busy event loop is one turn each (a commit of a
 * 100-channel round read its heads in ten turns: docs/PERFORMANCE.md, "Fresh prices under
 * overload").
 */
async function getMany<T>(kv: Deno.Kv, keys: Deno.KvKey[]): Promise<Deno.KvEntryMaybe<T>[]> {
  if (keys.length <= 10) return keys.length === 0 ? [] : await kv.getMany<T[]>(keys);
  const chunks: Promise<Deno.KvEntryMaybe<T>[]>[] = [];
  for (let i = 0; i < keys.length; i += 10) chunks.push(kv.getMany<T[]>(keys.slice(i, i + 10)));
  return (await Promise.all(chunks)).flat();
}

/** Creates and starts a KV bus for this isolate. */
export async function createKvBus(options: KvBusOptions): Promise<BusEngine> {
  const { kv, historyOf } = options;
  const now = options.now ?? Date.now;
  const onError = options.onError ?? (() => {});
  const listeners: ((m: BusMessage) => void)[] = [];
  const gapListeners: ((shard: number, of: (c: string) => number) => void)[] = [];
  const lastSeq: number[] = new Array(SHARDS).fill(0);
  /**
   * What this engine's own last commit on each shard left: the shard's pointer (seq and the
   * commit's versionstamp) and the heads it wrote. While no other commit on the shard is known
   * (the log seen ends at our seq), the next commit builds on them without reading — the
   * pointer check still guards it: if another isolate committed in between, the check fails
   * and the retry reads everything fresh. On a busy event loop every read is a turn, so a
   * lone publisher (the market lease holder) commits in one wait instead of three or more.
   */
  const ownPointers = new Map<number, OwnPointer>();
  const ownHeads = new Map<string, { head: ChannelHead; versionstamp: string }>();
  const queues: Promise<void>[] = new Array(SHARDS).fill(Promise.resolve());
  const stats: BusStats = newBusStats("kv");
  const queue = createGroupCommit<PendingPublish>({
    take: takeBatch,
    commit: commitIsolated,
    keyOf: latestKey,
    replaced: settleWithNewer,
  });
  let closed = false;

  function emit(message: BusMessage): void {
    stats.delivered++;
    for (const listener of listeners) {
      try {
        listener(message);
      } catch (err) {
        onError(err);
      }
    }
  }

  /** Runs `task` after everything queued on `shard` (one serial queue per shard). */
  function onShard(shard: number, task: () => Promise<void> | void): Promise<void> {
    const next = queues[shard].then(task).catch(onError);
    queues[shard] = next;
    return next;
  }

  /** Emits the shard's log entries after `lastSeq` up to `upTo` (read from KV). */
  async function catchUp(shard: number, upTo: number): Promise<void> {
    if (lastSeq[shard] >= upTo) return;
    let expected = lastSeq[shard] + 1;
    const iter = kv.list<BusMessage[]>({
      start: busLogKey(shard, expected),
      end: busLogKey(shard, upTo + 1),
    });
    for await (const entry of iter) {
      const seq = entry.key[3] as number;
      if (seq !== expected) reportGap(shard);
      for (const message of entry.value) emit(message);
      lastSeq[shard] = seq;
      expected = seq + 1;
    }
    if (lastSeq[shard] < upTo) {
      reportGap(shard);
      lastSeq[shard] = upTo;
    }
  }

  function reportGap(shard: number): void {
    stats.gaps++;
    for (const listener of gapListeners) listener(shard, shardOf);
  }

  // ---- watching ----------------------------------------------------------------------

  const pointerKeys = Array.from({ length: SHARDS }, (_, i) => busPointerKey(i));
  const initial = await kv.getMany<{ seq: number }[]>(pointerKeys);
  initial.forEach((entry, shard) => lastSeq[shard] = entry.value?.seq ?? 0);
  const watchAbort = new AbortController();
  const watching = (async () => {
    while (!watchAbort.signal.aborted) {
      const stream = kv.watch<{ seq: number }[]>(pointerKeys);
      const reader = stream.getReader();
      const cancel = () => reader.cancel().catch(() => {});
      watchAbort.signal.addEventListener("abort", cancel, { once: true });
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          value.forEach((entry, shard) => {
            const seq = entry.value?.seq ?? 0;
            if (seq > lastSeq[shard]) onShard(shard, () => catchUp(shard, seq));
          });
        }
      } catch (err) {
        if (!watchAbort.signal.aborted) onError(err);
      } finally {
        watchAbort.signal.removeEventListener("abort", cancel);
        reader.releaseLock();
      }
    }
  })();

  const pollMs = options.pollMs ?? 500;
  const poller = pollMs > 0
    ? setInterval(async () => {
      try {
        const entries = await kv.getMany<{ seq: number }[]>(pointerKeys);
        entries.forEach((entry, shard) => {
          const seq = entry.value?.seq ?? 0;
          if (seq > lastSeq[shard]) onShard(shard, () => catchUp(shard, seq));
        });
      } catch (err) {
        if (!closed) onError(err);
      }
    }, pollMs)
    : undefined;

  // ---- publishing --------------------------------------------------------------------

  /**
   * Commits `all` in one atomic operation, retrying while other isolates commit first.
   * Publishes whose idempotency key was committed before resolve with its position at
   * once and leave the batch. Throws a {@linkcode CommitError} naming the phase that failed.
   */
  async function commitBatch(all: PendingPublish[]): Promise<void> {
    let batch = all;
    for (let attempt = 1;; attempt++) {
      let plan: CommitPlan<PendingPublish>;
      try {
        // A retry reads everything: what we knew was overtaken.
        plan = await readAndPlan(batch, attempt === 1);
      } catch (err) {
        throw new CommitError("read", err);
      }
      if (plan.answered.length > 0) {
        stats.duplicates += plan.answered.length;
        for (const { publish, message } of plan.answered) publish.resolve(message);
        const answered = new Set(plan.answered.map((a) => a.publish));
        batch = batch.filter((p) => !answered.has(p));
      }
      if (plan.committed.length === 0) return;
      let committed;
      try {
        committed = await write(plan);
      } catch (err) {
        throw new CommitError("write", err);
      }
      if (committed) return;
      stats.conflicts++;
      if (attempt >= MAX_COMMIT_ATTEMPTS) {
        throw new CommitError(
          "conflict",
          new Error(`Cannot publish: ${MAX_COMMIT_ATTEMPTS} commits conflicted in a row`),
        );
      }
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 * attempt)));
    }
  }

  /**
   * Reads what a commit of `batch` builds on, and plans it (lib/bus/commit_plan.ts). With
   * `useOwn`, a shard this engine committed last (as far as its log shows) and the heads that
   * commit wrote are taken from memory instead (see `ownPointers`).
   */
  async function readAndPlan(
    batch: PendingPublish[],
    useOwn: boolean,
  ): Promise<CommitPlan<PendingPublish>> {
    const reads = planReads(batch);
    const t = now();
    const markerEntries = await getMany<IdempotencyMarker>(kv, reads.markers.map((m) => m.key));
    const markers = new Map<string, IdempotencyMarker>();
    markerEntries.forEach((entry, i) => {
      if (entry.value) markers.set(reads.markers[i].scope, entry.value);
    });
    const pointers = new Map<number, ShardPointer>();
    const heads = new Map<string, ChannelHead>();
    const toRead: number[] = [];
    for (const shard of reads.shards) {
      const own = useOwn ? ownPointers.get(shard) : undefined;
      if (own && lastSeq[shard] <= own.seq) pointers.set(shard, own);
      else toRead.push(shard);
    }
    const channelsToRead: string[] = [];
    for (const channel of reads.channels) {
      const chain = useOwn ? ownPointers.get(shardOf(channel)) : undefined;
      const own = chain && pointers.has(shardOf(channel)) ? ownHeads.get(channel) : undefined;
      // A head we wrote since the shard became ours without a break (commits by us only, each
      // checking the one before) is current — unless it may have expired (1 s of slack).
      const ttl = own ? headTtlMs(historyOf(channel)) : undefined;
      if (
        own && own.versionstamp >= chain!.since &&
        (ttl === undefined || own.head.ts + ttl > t + 1_000)
      ) {
        heads.set(channel, own.head);
      } else channelsToRead.push(channel);
    }
    // Pointers first, then heads: a head written after our pointer read comes with a
    // pointer change, which fails the pointer check. Heads are written only in commits
    // that move their shard's pointer, so a missing head needs no check.
    if (toRead.length > 0) {
      const pointerEntries = await kv.getMany<{ seq: number }[]>(toRead.map(busPointerKey));
      pointerEntries.forEach((entry, i) => {
        pointers.set(toRead[i], { seq: entry.value?.seq ?? 0, versionstamp: entry.versionstamp });
      });
    }
    if (channelsToRead.length > 0) {
      const headEntries = await getMany<ChannelHead>(kv, channelsToRead.map(busHeadKey));
      headEntries.forEach((entry, i) => {
        if (entry.value) heads.set(channelsToRead[i], entry.value);
      });
    }
    return planCommit({ batch, markers, pointers, heads, historyOf, now: t, newEpoch });
  }

  /** Remembers what our commit left on its shards (see `ownPointers`). */
  function remember(plan: CommitPlan<PendingPublish>, versionstamp: string): void {
    for (const log of plan.logs) {
      const before = ownPointers.get(log.shard);
      const checked = plan.checks.find((c) =>
        c.key.length === 3 && c.key[1] === "ptr" && c.key[2] === log.shard
      )?.versionstamp;
      // Built on our own previous commit: the chain goes on; else it starts here.
      const since = before && checked === before.versionstamp ? before.since : versionstamp;
      ownPointers.set(log.shard, {
        seq: log.from + log.entries.length - 1,
        versionstamp,
        since,
      });
    }
    for (const { message } of plan.committed) {
      const head = { epoch: message.epoch, offset: message.offset, ts: message.ts };
      ownHeads.delete(message.channel); // re-inserted last: the map keeps the newest
      ownHeads.set(message.channel, { head, versionstamp });
    }
    while (ownHeads.size > MAX_OWN_HEADS) ownHeads.delete(ownHeads.keys().next().value!);
  }

  /**
   * Writes `plan` as one atomic commit, then resolves its publishes and emits its log
   * entries; false when another isolate committed on one of its shards (or its keys) first.
   */
  async function write(plan: CommitPlan<PendingPublish>): Promise<boolean> {
    const op = kv.atomic();
    op.check(...plan.checks);
    for (const w of plan.writes) {
      if (w.type === "delete") op.delete(w.key);
      else op.set(w.key, w.value, w.expireIn === undefined ? undefined : { expireIn: w.expireIn });
    }
    const result = await op.commit();
    if (!result.ok) {
      for (const log of plan.logs) ownPointers.delete(log.shard);
      return false;
    }
    remember(plan, result.versionstamp);
    const n = plan.committed.length;
    stats.commits++;
    stats.published += n;
    stats.lastBatch = n;
    stats.maxBatch = Math.max(stats.maxBatch, n);
    stats.duplicates += plan.repeats.length;
    for (const { publish, message } of [...plan.committed, ...plan.repeats]) {
      publish.resolve(message);
    }
    for (const log of plan.logs) {
      const { shard } = log;
      onShard(shard, async () => {
        // Older entries of this shard (other isolates' commits) first, then ours.
        await catchUp(shard, log.from - 1);
        log.entries.forEach((messages, k) => {
          const seq = log.from + k;
          if (seq <= lastSeq[shard]) return;
          for (const m of messages) emit(m);
          lastSeq[shard] = seq;
        });
      });
    }
    return true;
  }

  /**
   * Commits `batch`; when a write fails on what it holds (a value or a limit), commits
   * each half on its own, in order, down to the one message at fault, which fails alone
   * with {@linkcode BusRejection}. A failure to read, contention or an unavailable store
   * fails the batch as it is (temporary).
   */
  async function commitIsolated(batch: PendingPublish[]): Promise<void> {
    try {
      await commitBatch(batch);
    } catch (err) {
      const failure = err instanceof CommitError ? err : new CommitError("read", err);
      const valueError = failure.phase === "write" && isValueError(failure.cause);
      if (valueError && batch.length > 1) {
        stats.isolations++;
        const half = Math.ceil(batch.length / 2);
        await commitIsolated(batch.slice(0, half));
        await commitIsolated(batch.slice(half));
        return;
      }
      const reason = valueError
        ? new BusRejection(
          /too large/i.test(failure.message) ? "too_large" : "unstorable",
          `Cannot publish to ${batch[0].channel}: KV refused the message (${failure.message})`,
        )
        : failure.cause;
      if (valueError) stats.rejected++;
      for (const p of batch) p.reject(reason);
    }
  }

  /**
   * The bytes KV will store for a message of `channel` with `data`: measured as the
   * stored message, with the largest epoch, offset and time it can get.
   */
  function measure(channel: string, data: unknown, opts: PublishOptions): number {
    const largest: BusMessage = {
      channel,
      epoch: "x".repeat(12),
      offset: Number.MAX_SAFE_INTEGER,
      ts: Number.MAX_SAFE_INTEGER,
      data,
      ...(opts.from ? { from: opts.from } : {}),
      ...(opts.fromName ? { fromName: opts.fromName } : {}),
    };
    try {
      return storedSize(largest, MAX_MESSAGE_BYTES);
    } catch (err) {
      if (!(err instanceof UnstorableValueError)) throw err;
      throw new BusRejection("unstorable", `Cannot publish to ${channel}: ${err.message}`);
    }
  }

  return {
    publish(channel, data, opts: PublishOptions = {}) {
      if (closed) return Promise.reject(new Error("Cannot publish: the bus is closed"));
      let bytes: number;
      try {
        bytes = measure(channel, data, opts);
      } catch (err) {
        stats.rejected++;
        return Promise.reject(err);
      }
      const planned: PlannedPublish = {
        channel,
        data,
        from: opts.from,
        fromName: opts.fromName,
        idempotencyKey: opts.idempotencyKey,
        bytes,
      };
      const keepsHistory = historyOf(channel).size > 0;
      const problem = cannotCommit(planned, keepsHistory);
      if (problem) {
        stats.rejected++;
        return Promise.reject(
          new BusRejection("too_large", `Cannot publish to ${channel}: ${problem}`),
        );
      }
      return new Promise<BusMessage>((resolve, reject) => {
        queue.push({
          ...planned,
          cost: publishCost(planned, keepsHistory),
          latest: opts.latest,
          resolve,
          reject,
        });
      });
    },
    onMessage(listener) {
      listeners.push(listener);
    },
    onGap(listener) {
      gapListeners.push(listener);
    },
    position,
    async recover(channel, since): Promise<Recovery> {
      const current = await position(channel);
      const fail = (): Recovery => {
        stats.recoveries.notRecovered++;
        return { recovered: false, position: current };
      };
      if (since.epoch !== current.epoch || since.offset > current.offset) return fail();
      const wanted = current.offset - since.offset;
      if (wanted > historyOf(channel).size) return fail();
      const messages: BusMessage[] = [];
      if (wanted > 0) {
        const iter = kv.list<BusMessage>({
          start: busHistoryKey(channel, since.offset + 1),
          end: busHistoryKey(channel, current.offset + 1),
        });
        for await (const entry of iter) messages.push(entry.value);
      }
      const contiguous = messages.length === wanted &&
        messages.every((m, i) => m.offset === since.offset + 1 + i && m.epoch === current.epoch);
      if (!contiguous) return fail();
      stats.recoveries.recovered++;
      return { recovered: true, position: current, messages };
    },
    history,
    stats: () => structuredClone(stats),
    async close() {
      closed = true;
      clearInterval(poller);
      await queue.idle();
      watchAbort.abort();
      await watching;
      await Promise.all(queues);
    },
  };

  /**
   * One bounded reverse range read of `["bus","h",channel]`: offsets within the kept size
   * below `before`, newest first, at most `limit`. KV expires entries lazily, so messages
   * older than the TTL, and any left from an earlier epoch, are skipped here.
   */
  async function history(channel: string, query: HistoryQuery): Promise<HistoryPage> {
    const limit = Math.trunc(query.limit);
    if (!(limit >= 1 && limit <= MAX_HISTORY_READ)) {
      throw new RangeError(
        `Cannot read the history of ${channel}: limit ${query.limit} is not within 1–${MAX_HISTORY_READ}`,
      );
    }
    if (query.before !== undefined && !(query.before >= 0)) {
      throw new RangeError(
        `Cannot read the history of ${channel}: before ${query.before} is not an offset`,
      );
    }
    const current = await position(channel);
    const { size, ttlMs } = historyOf(channel);
    const oldest = Math.max(1, current.offset - size + 1);
    const end = Math.min(current.offset + 1, query.before ?? Infinity);
    if (size <= 0 || end <= oldest) return { position: current, messages: [] };
    const iter = kv.list<BusMessage>({
      start: busHistoryKey(channel, oldest),
      end: busHistoryKey(channel, end),
    }, { reverse: true, limit });
    const notBefore = now() - ttlMs;
    const messages: BusMessage[] = [];
    for await (const entry of iter) {
      const m = entry.value;
      if (m.epoch === current.epoch && m.ts > notBefore) messages.push(m);
    }
    return { position: current, messages: messages.reverse() };
  }

  /** The channel's head, or offset 0 of its empty epoch; never writes. */
  async function position(channel: string): Promise<Position> {
    const entry = await kv.get<ChannelHead>(busHeadKey(channel));
    if (entry.value) return { epoch: entry.value.epoch, offset: entry.value.offset };
    return { epoch: emptyEpoch(historyOf(channel), now()), offset: 0 };
  }
}
