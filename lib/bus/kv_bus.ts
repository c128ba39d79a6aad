/**
 * The KV bus engine.
 *
 * Publishing: publishes made in the same tick are group-committed — one atomic commit
 * writes, for every message, its history entry (`["bus","h",channel,offset]`, expiring,
 * the entry `size` back deleted) and the channel's head; for every shard touched, one or
 * more log entries (`["bus","log",shard,seq]`) holding the messages and the shard's
 * pointer (`["bus","ptr",shard]`), checked so that concurrent publishers on other
 * isolates serialize per shard. A channel belongs to one of {@linkcode SHARDS} shards.
 *
 * Delivering: every isolate watches the shard pointers (one `kv.watch` of 8 keys; watch
 * coalesces, so it reads the log range it has not seen yet) and emits the logged
 * messages in log order, hence in offset order per channel. The publishing isolate emits
 * its own commit at once, first catching up on older log entries of the shard so that
 * nothing is reordered. Each shard is processed by one serial queue.
 */
import { busHeadKey, busHistoryKey, busIdempotencyKey, busLogKey, busPointerKey } from "./keys.ts";
import type {
  BusEngine,
  BusMessage,
  BusStats,
  HistoryPage,
  HistoryPolicy,
  HistoryQuery,
  Position,
  Recovery,
} from "./engine.ts";

/** Number of shards (one `kv.watch` takes at most 10 keys). */
export const SHARDS = 8;
/** How long log entries are kept: an isolate stalled longer than this sees a gap. */
export const LOG_TTL_MS = 10 * 60_000;
/** Largest message the bus accepts (KV values are at most 64 KiB). */
export const MAX_MESSAGE_BYTES = 60 * 1024;
/** How long a publish's idempotency key is remembered. */
export const IDEMPOTENCY_TTL_MS = 10 * 60_000;
/** Idempotent publishes per commit at most (each adds a check; KV allows 100 checks). */
const MAX_BATCH_IDEMPOTENT = 50;
/** Messages per commit at most (two mutations each, well under KV's 1 000). */
const MAX_BATCH_MESSAGES = 200;
/** Estimated bytes per commit at most (messages are stored twice; KV allows 800 KiB). */
const MAX_BATCH_BYTES = 300 * 1024;
/** Most messages one history read returns. */
export const MAX_HISTORY_READ = 1_000;
/** Bytes per log entry at most. */
const MAX_LOG_ENTRY_BYTES = 56 * 1024;
const MAX_COMMIT_ATTEMPTS = 30;

interface ChannelHead {
  epoch: string;
  offset: number;
  ts: number;
}

interface PendingPublish {
  channel: string;
  data: unknown;
  from?: string;
  /** Publishes with the same key within {@linkcode IDEMPOTENCY_TTL_MS} are committed once. */
  idempotencyKey?: string;
  bytes: number;
  resolve(message: BusMessage): void;
  reject(err: unknown): void;
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

/** FNV-1a of the channel name, modulo {@linkcode SHARDS}. */
export function shardOf(channel: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < channel.length; i++) {
    h ^= channel.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % SHARDS;
}

function newEpoch(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 12);
}

function sizeOf(data: unknown): number {
  // Close to KV's own encoding for JSON-like values; used only for batching bounds.
  return JSON.stringify(data ?? null).length + 64;
}

async function getMany<T>(kv: Deno.Kv, keys: Deno.KvKey[]): Promise<Deno.KvEntryMaybe<T>[]> {
  const out: Deno.KvEntryMaybe<T>[] = [];
  for (let i = 0; i < keys.length; i += 10) {
    out.push(...await kv.getMany<T[]>(keys.slice(i, i + 10)));
  }
  return out;
}

/** Creates and starts a KV bus for this isolate. */
export async function createKvBus(options: KvBusOptions): Promise<BusEngine> {
  const { kv, historyOf } = options;
  const now = options.now ?? Date.now;
  const onError = options.onError ?? (() => {});
  const listeners: ((m: BusMessage) => void)[] = [];
  const gapListeners: ((shard: number, of: (c: string) => number) => void)[] = [];
  const lastSeq: number[] = new Array(SHARDS).fill(0);
  const queues: Promise<void>[] = new Array(SHARDS).fill(Promise.resolve());
  const stats: BusStats = {
    published: 0,
    delivered: 0,
    commits: 0,
    lastBatch: 0,
    maxBatch: 0,
    conflicts: 0,
    recoveries: { recovered: 0, notRecovered: 0 },
    gaps: 0,
    duplicates: 0,
  };
  let pending: PendingPublish[] = [];
  let flushing: Promise<void> | null = null;
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
   * Resolves the publishes whose idempotency key was already committed (with the stored
   * position) and the repeats of a key within `batch` (after their first); returns the rest,
   * the marker entries to check, and the repeats to resolve once the batch commits.
   */
  async function deduplicate(batch: PendingPublish[]) {
    const keyed = batch.filter((p) => p.idempotencyKey !== undefined);
    if (keyed.length === 0) return { fresh: batch, markers: [], repeats: [] };
    const keys = [...new Set(keyed.map((p) => p.idempotencyKey!))];
    const entries = await getMany<Omit<BusMessage, "data">>(kv, keys.map(busIdempotencyKey));
    const stored = new Map(keys.map((k, i) => [k, entries[i]]));
    const fresh: PendingPublish[] = [];
    const firstOf = new Map<string, PendingPublish>();
    const repeats: { p: PendingPublish; first: PendingPublish }[] = [];
    for (const p of batch) {
      const key = p.idempotencyKey;
      if (key === undefined) {
        fresh.push(p);
        continue;
      }
      const marker = stored.get(key)!.value;
      if (marker) {
        stats.duplicates++;
        p.resolve({ ...marker, data: p.data, ...(p.from ? { from: p.from } : {}) });
      } else if (firstOf.has(key)) {
        stats.duplicates++;
        repeats.push({ p, first: firstOf.get(key)! });
      } else {
        firstOf.set(key, p);
        fresh.push(p);
      }
    }
    const markers = [...firstOf.keys()].map((k) => stored.get(k)!);
    return { fresh, markers, repeats };
  }

  async function commitBatch(all: PendingPublish[]): Promise<void> {
    for (let attempt = 1;; attempt++) {
      const { fresh: batch, markers, repeats } = await deduplicate(all);
      if (batch.length === 0) return;
      const channels = [...new Set(batch.map((p) => p.channel))];
      const shards = [...new Set(channels.map(shardOf))].sort((a, b) => a - b);
      // Pointers first, then heads: a head written after our pointer read comes with a
      // pointer change, which fails the pointer check below. Heads are always read
      // fresh — a cached head can be stale even when the pointer check passes.
      const pointers = await kv.getMany<{ seq: number }[]>(shards.map(busPointerKey));
      const heads = new Map<string, ChannelHead>();
      const op = kv.atomic();
      pointers.forEach((p) => op.check(p));
      const headEntries = await getMany<ChannelHead>(kv, channels.map(busHeadKey));
      headEntries.forEach((entry, i) => {
        if (entry.value) heads.set(channels[i], entry.value);
        // A new channel's head may be created meanwhile by position() elsewhere.
        else op.check(entry);
      });
      const ts = now();
      const nextHeads = new Map<string, ChannelHead>();
      const committed: BusMessage[] = [];
      for (const p of batch) {
        const head = nextHeads.get(p.channel) ?? heads.get(p.channel) ??
          { epoch: newEpoch(), offset: 0, ts };
        const message: BusMessage = {
          channel: p.channel,
          epoch: head.epoch,
          offset: head.offset + 1,
          ts,
          data: p.data,
          ...(p.from ? { from: p.from } : {}),
        };
        nextHeads.set(p.channel, { epoch: head.epoch, offset: message.offset, ts });
        committed.push(message);
        const history = historyOf(p.channel);
        if (history.size > 0) {
          op.set(busHistoryKey(p.channel, message.offset), message, { expireIn: history.ttlMs });
          const drop = message.offset - history.size;
          if (drop >= 1) op.delete(busHistoryKey(p.channel, drop));
        }
      }
      for (const [channel, head] of nextHeads) op.set(busHeadKey(channel), head);
      // Idempotency markers: a concurrent publish of the same key fails our check.
      for (const marker of markers) op.check(marker);
      committed.forEach((m, i) => {
        const key = batch[i].idempotencyKey;
        if (key === undefined) return;
        const { data: _data, ...position } = m;
        op.set(busIdempotencyKey(key), position, { expireIn: IDEMPOTENCY_TTL_MS });
      });
      const logs = new Map<number, { from: number; entries: BusMessage[][] }>();
      shards.forEach((shard, i) => {
        const entries: BusMessage[][] = [[]];
        let bytes = 0;
        for (let j = 0; j < committed.length; j++) {
          if (shardOf(committed[j].channel) !== shard) continue;
          const size = batch[j].bytes;
          if (bytes + size > MAX_LOG_ENTRY_BYTES && entries.at(-1)!.length > 0) {
            entries.push([]);
            bytes = 0;
          }
          entries.at(-1)!.push(committed[j]);
          bytes += size;
        }
        const from = (pointers[i].value?.seq ?? 0) + 1;
        entries.forEach((messages, k) => {
          op.set(busLogKey(shard, from + k), messages, { expireIn: LOG_TTL_MS });
        });
        op.set(busPointerKey(shard), { seq: from + entries.length - 1 });
        logs.set(shard, { from, entries });
      });
      const result = await op.commit();
      if (result.ok) {
        stats.commits++;
        stats.published += committed.length;
        stats.lastBatch = committed.length;
        stats.maxBatch = Math.max(stats.maxBatch, committed.length);
        committed.forEach((m, i) => batch[i].resolve(m));
        for (const { p, first } of repeats) {
          const m = committed[batch.indexOf(first)];
          p.resolve({ ...m, data: p.data });
        }
        for (const [shard, log] of logs) {
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
        return;
      }
      stats.conflicts++;
      if (attempt >= MAX_COMMIT_ATTEMPTS) {
        throw new Error(`Cannot publish: ${MAX_COMMIT_ATTEMPTS} commits conflicted in a row`);
      }
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 * attempt)));
    }
  }

  async function flush(): Promise<void> {
    while (pending.length > 0) {
      let bytes = 0;
      let n = 0;
      let keyed = 0;
      while (
        n < pending.length && n < MAX_BATCH_MESSAGES &&
        (n === 0 || bytes + pending[n].bytes <= MAX_BATCH_BYTES) &&
        (pending[n].idempotencyKey === undefined || keyed < MAX_BATCH_IDEMPOTENT)
      ) {
        if (pending[n].idempotencyKey !== undefined) keyed++;
        bytes += pending[n].bytes;
        n++;
      }
      const batch = pending.slice(0, n);
      pending = pending.slice(n);
      try {
        await commitBatch(batch);
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
  }

  function scheduleFlush(): void {
    if (flushing) return;
    flushing = new Promise<void>((resolve) => queueMicrotask(resolve))
      .then(flush)
      .finally(() => {
        flushing = null;
        if (pending.length > 0) scheduleFlush();
      });
  }

  return {
    publish(channel, data, opts: { from?: string; idempotencyKey?: string } = {}) {
      if (closed) return Promise.reject(new Error("Cannot publish: the bus is closed"));
      const bytes = sizeOf(data);
      if (bytes > MAX_MESSAGE_BYTES) {
        return Promise.reject(
          new Error(
            `Cannot publish to ${channel}: ${bytes} bytes exceeds the bus limit of ${MAX_MESSAGE_BYTES}`,
          ),
        );
      }
      return new Promise<BusMessage>((resolve, reject) => {
        pending.push({
          channel,
          data,
          from: opts.from,
          idempotencyKey: opts.idempotencyKey,
          bytes,
          resolve,
          reject,
        });
        scheduleFlush();
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
      while (flushing) await flushing;
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

  async function position(channel: string): Promise<Position> {
    const key = busHeadKey(channel);
    for (;;) {
      const entry = await kv.get<ChannelHead>(key);
      if (entry.value) return { epoch: entry.value.epoch, offset: entry.value.offset };
      // First use of the channel: fix its epoch now, so positions are stable.
      const head: ChannelHead = { epoch: newEpoch(), offset: 0, ts: now() };
      if ((await kv.atomic().check(entry).set(key, head).commit()).ok) {
        return { epoch: head.epoch, offset: 0 };
      }
    }
  }
}
