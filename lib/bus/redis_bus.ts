/**
 * The Redis bus engine: the {@linkcode BusEngine} contract of the KV engine on one Redis
 * (≥ 7.0, a single primary), shared by any number of processes on any number of hosts.
 *
 * Keys (under `prefix`, default `rt:bus:`):
 *
 * - `h:<channel>`: the channel's head, a hash `{e: epoch, o: last offset, a: era}`. Its
 *   epoch is written once, by the first message after the head was absent (or of an older
 *   era, see {@linkcode PUBLISH_LUA}); it expires {@linkcode HEAD_TTL_MARGIN_MS} after the
 *   channel's newest message would.
 * - `s:<channel>`: the channel's history, a stream whose entry ids are the offsets
 *   (`<offset>-0`), trimmed by `XADD … MAXLEN ~ size` and expiring `ttlMs` after the
 *   newest message (`PEXPIRE`).
 * - `i:<[channel, key]>`: an idempotency marker (`SET … PX`, 10 minutes): the position of
 *   the first publish with that key on that channel.
 * - `log:<shard>`: the fan-out log of one of {@linkcode SHARDS} shards, a stream of
 *   committed batches (`q`: the shard's sequence number from the hash `seq`, `m`: the
 *   messages as a JSON array), trimmed to `logMaxLen` entries.
 * - `era`: changes when Redis is found to have lost writes; heads of an older era are
 *   absent (new epochs, `recovered: false`).
 *
 * Publishing: publishes of one tick are one `EVALSHA` of {@linkcode PUBLISH_LUA} (at most
 * {@linkcode MAX_BATCH_MESSAGES} messages and {@linkcode MAX_BATCH_BYTES}): for each
 * message it answers a known idempotency key with the stored position, or assigns the next
 * offset, appends to the history and sets the marker; then it appends one log entry per
 * shard touched. Redis runs a script alone, so offsets, history and log agree. A message
 * is measured (JSON bytes) and checked (JSON-like, depth) before anything is sent.
 *
 * Delivering: every engine reads the 8 logs on a connection of its own
 * (`XREAD COUNT … BLOCK … STREAMS log:0 … log:7`) from the last entry it saw, and emits
 * the messages in log order, hence in offset order per channel — its own included. An
 * entry whose `q` is not the one after the last seen means entries were trimmed away
 * unread (this process fell behind by more than `logMaxLen` batches) or Redis lost them
 * (restarted without persistence, or from an older snapshot): the shard's listeners get
 * `onGap`, as on KV; a `q` at or below the last seen also starts a new era. Chosen
 * over pub/sub (measured: PUBLISH 0.3–1.5 ms faster at p50 on this machine), because
 * a reader that reconnects resumes where it stopped, a slow reader is never cut off by
 * Redis's output-buffer limit, and a lost entry is always seen.
 *
 * Failures: every command has a deadline (`commandTimeoutMs`); a publish that misses it,
 * or finds Redis down, rejects with a plain `Error` (temporary: the hub answers `internal`,
 * `temporary: true`) — it may still have been committed, so clients retry with the same
 * publish id. Reads reject the same way. The reader retries with backoff and resumes.
 */
import type { RedisClient, RedisScript } from "./redis.ts";
import { closeRedis, openBlockingConnection, openRedis, redisScript } from "./redis.ts";
import {
  type BusEngine,
  type BusMessage,
  BusRejection,
  type BusStats,
  type HistoryPage,
  type HistoryPolicy,
  type HistoryQuery,
  newBusStats,
  type Position,
  type PublishOptions,
  type Recovery,
} from "./engine.ts";
import {
  HEAD_TTL_MARGIN_MS,
  IDEMPOTENCY_TTL_MS,
  MAX_HISTORY_READ,
  shardOf,
  SHARDS,
} from "./kv_bus.ts";
import { storedSizeBound, UnstorableValueError } from "./stored_size.ts";
import { createGroupCommit, latestKey, settleWithNewer } from "./group_commit.ts";

/**
 * Largest message, UTF-8 bytes of its JSON: the KV engine's 60 KiB (which it counts in V8's
 * encoding), so that what one engine takes the other does too, near enough.
 */
export const REDIS_MAX_MESSAGE_BYTES = 60 * 1024;
/** Messages per `EVALSHA` at most. */
const MAX_BATCH_MESSAGES = 200;
/** JSON bytes per `EVALSHA` at most (also the largest log entry). */
const MAX_BATCH_BYTES = 256 * 1024;
/** Publishes waiting for Redis at most; more are refused at once (temporary). */
const MAX_PENDING = 20_000;
/** Longest channel name or idempotency key, characters (they become key names). */
const MAX_NAME_CHARS = 1_024;
/** Log entries per shard read in one `XREAD` at most. */
const READ_COUNT = 64;
/** How long one `XREAD` blocks, ms (a closing engine waits at most this long for it). */
const BLOCK_MS = 1_000;
/** Default fan-out log length per shard, entries (batches). */
const DEFAULT_LOG_MAX_LEN = 10_000;

/**
 * One batch. `KEYS`: the shard sequence hash, the era, the 8 shard logs, then per message
 * its head, history and marker keys. `ARGV`: ts, log length, marker TTL, a new era, the
 * 8 sequence numbers the caller has seen, then per message: keyed (1/0), history size,
 * history TTL, head TTL (0: none), shard, a new epoch, and the message's JSON after its
 * `{` (`"channel":…,"data":…}`). Answers per message `n <epoch> <offset>` (committed) or
 * `d <epoch> <offset> <ts>` (a repeat of a committed key).
 *
 * Era: a shard of the batch whose sequence is below one the caller has seen went back in
 * time — Redis restarted from a snapshot older than writes already delivered (RDB, or AOF
 * `everysec` after a crash). The script then starts a new era before writing anything:
 * every head of an older era counts as absent, so channels start new epochs instead of
 * handing out again offsets that clients have seen with other messages. (A shard whose
 * sequence did not go back lost none of its channels' writes: a batch always moves it.)
 */
export const PUBLISH_LUA = `#!lua
local seqKey, eraKey = KEYS[1], KEYS[2]
local ts, logMax, markerTtl = ARGV[1], ARGV[2], ARGV[3]
local n = (#ARGV - 12) / 7
local era = redis.call('GET', eraKey)
local newEra = not era
-- The shards this batch writes: did one go back in time?
local touched, isTouched = {}, {}
for i = 0, n - 1 do
  local shard = ARGV[17 + 7 * i]
  if not isTouched[shard] then
    isTouched[shard] = true
    touched[#touched + 1] = shard
  end
end
local stored = redis.call('HMGET', seqKey, unpack(touched))
for j, shard in ipairs(touched) do
  if tonumber(stored[j] or '0') < tonumber(ARGV[5 + tonumber(shard)]) then newEra = true end
end
if newEra then
  era = ARGV[4]
  redis.call('SET', eraKey, era)
end
local out = {}
local logs, shards = {}, {}
local ttls, ttlKeys = {}, {}
local epochs = {}
local function expire(key, ms)
  if ttls[key] == nil then ttlKeys[#ttlKeys + 1] = key end
  ttls[key] = ms
end
for i = 0, n - 1 do
  local hk, sk, ik = KEYS[11 + 3 * i], KEYS[12 + 3 * i], KEYS[13 + 3 * i]
  local a = 13 + 7 * i
  local keyed = ARGV[a] == '1'
  local prev = keyed and redis.call('GET', ik)
  if prev then
    out[i + 1] = 'd ' .. prev
  else
    local e = epochs[hk]
    if not e then
      local h = redis.call('HMGET', hk, 'e', 'a')
      e = h[1]
      if not e or h[2] ~= era then
        -- No head, or one from an older era: a new epoch, and no history from before it.
        e = ARGV[a + 5]
        redis.call('DEL', sk)
        redis.call('HSET', hk, 'e', e, 'a', era, 'o', 0)
      end
      epochs[hk] = e
    end
    local o = redis.call('HINCRBY', hk, 'o', 1)
    local os = string.format('%d', o)
    local msg = '{"epoch":"' .. e .. '","offset":' .. os .. ',"ts":' .. ts .. ',' .. ARGV[a + 6]
    local size = tonumber(ARGV[a + 1])
    if size > 0 then
      local added = redis.pcall('XADD', sk, 'MAXLEN', '~', size, os .. '-0', 'm', msg)
      if type(added) == 'table' and added.err then
        -- Entries at or above this offset (a head lost alone): they belong to no epoch now.
        redis.call('DEL', sk)
        redis.call('XADD', sk, 'MAXLEN', '~', size, os .. '-0', 'm', msg)
      end
      if tonumber(ARGV[a + 2]) > 0 then expire(sk, ARGV[a + 2]) end
    end
    expire(hk, ARGV[a + 3])
    if keyed then redis.call('SET', ik, e .. ' ' .. os .. ' ' .. ts, 'PX', markerTtl) end
    local shard = ARGV[a + 4]
    if logs[shard] == nil then
      logs[shard] = {}
      shards[#shards + 1] = shard
    end
    local list = logs[shard]
    list[#list + 1] = msg
    out[i + 1] = 'n ' .. e .. ' ' .. os
  end
end
for _, key in ipairs(ttlKeys) do
  if ttls[key] == '0' then redis.call('PERSIST', key) else redis.call('PEXPIRE', key, ttls[key]) end
end
for _, shard in ipairs(shards) do
  local q = redis.call('HINCRBY', seqKey, shard, 1)
  redis.call('XADD', KEYS[3 + tonumber(shard)], 'MAXLEN', '~', logMax, '*',
    'q', string.format('%d', q), 'a', era, 'm', '[' .. table.concat(logs[shard], ',') .. ']')
end
return out
`;

/**
 * A channel's head and, on request, a range of its history, read atomically. `KEYS`: head,
 * history, era. `ARGV[1]`: `pos` (head only), `range` (`XRANGE` ARGV[2]..ARGV[3]) or `rev`
 * (`XREVRANGE` ARGV[2]..ARGV[3], at most ARGV[4]); the range is read only when the head
 * exists and reaches ARGV[5] (an offset). Answers `{epoch, offset, entries}`, or `{}` when
 * the channel has no head of the current era.
 */
export const READ_LUA = `#!lua flags=no-writes
local h = redis.call('HMGET', KEYS[1], 'e', 'o', 'a')
if not h[1] or (h[3] or '') ~= (redis.call('GET', KEYS[3]) or '') then return {} end
local o = tonumber(h[2]) or 0
local entries = {}
if ARGV[1] ~= 'pos' and o >= tonumber(ARGV[5]) then
  if ARGV[1] == 'range' then
    entries = redis.call('XRANGE', KEYS[2], ARGV[2], ARGV[3])
  else
    entries = redis.call('XREVRANGE', KEYS[2], ARGV[2], ARGV[3], 'COUNT', ARGV[4])
  end
end
return {h[1], string.format('%d', o), entries}
`;

/**
 * Starts a new era (`ARGV[2]`) if the era (`KEYS[1]`) is still `ARGV[1]`: the readers that
 * see a shard go back in time within one era ask for it; the first one wins.
 */
export const BUMP_ERA_LUA = `#!lua
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) end
return 0
`;

const publishScript: RedisScript = redisScript(PUBLISH_LUA);
const bumpEraScript: RedisScript = redisScript(BUMP_ERA_LUA);
const readScript: RedisScript = redisScript(READ_LUA);

/** Options of {@linkcode createRedisBus}. */
export interface RedisBusOptions {
  /**
   * A client from {@linkcode openRedis}, shared with other users (not closed by the bus);
   * the bus opens a second connection from it for its blocking reads.
   */
  redis?: RedisClient;
  /** Or a URL: the bus opens (and closes) its own connections. */
  url?: string;
  /** History bounds per channel (from the namespace policies). */
  historyOf: (channel: string) => HistoryPolicy;
  /** Key prefix, to share one Redis between apps or tests. Default `rt:bus:`. */
  prefix?: string;
  /** Clock; default `Date.now`. */
  now?: () => number;
  /** Errors that did not stop the bus (a read that will be retried, a listener that threw). */
  onError?: (err: unknown) => void;
  /** Deadline of every command, ms (when the bus opens its connection). Default 2 000. */
  commandTimeoutMs?: number;
  /**
   * Fan-out log entries (batches) kept per shard: a process that falls further behind
   * sees a gap. Default 10 000.
   */
  logMaxLen?: number;
  /** Largest message, JSON bytes. Default {@linkcode REDIS_MAX_MESSAGE_BYTES}. */
  maxMessageBytes?: number;
}

interface PendingPublish {
  channel: string;
  /** A newer latest publish on the channel may replace it while it waits (PublishOptions). */
  latest?: boolean;
  data: unknown;
  from?: string;
  fromName?: string;
  idempotencyKey?: string;
  /** The message's JSON after its `{`. */
  body: string;
  bytes: number;
  resolve(message: BusMessage): void;
  reject(err: unknown): void;
}

function newEpoch(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 12);
}

/** How long a channel's head lives after a write; 0: for ever (no history TTL). */
function headTtlMs(policy: HistoryPolicy): number {
  return policy.size > 0 && policy.ttlMs > 0 ? policy.ttlMs + HEAD_TTL_MARGIN_MS : 0;
}

/** The epoch of a channel without a head: as the KV engine's (lib/bus/kv_bus.ts). */
function emptyEpoch(policy: HistoryPolicy, now: number): string {
  return headTtlMs(policy) === 0 ? "v" : `v${Math.floor(now / policy.ttlMs).toString(36)}`;
}

/** UTF-8 bytes of `s`, exact. */
function utf8Bytes(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A surrogate pair: 4 bytes (JSON.stringify escapes lone surrogates).
    if (c >= 0xd800 && c <= 0xdfff) n += 1;
    else if (c >= 0x800) n += 2;
    else if (c >= 0x80) n += 1;
  }
  return n;
}

type StreamEntry = [id: string, fields: string[]];

/** The value of `field` in a stream entry's flat field list. */
function field(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Creates and starts a Redis bus for this isolate. */
export async function createRedisBus(options: RedisBusOptions): Promise<BusEngine> {
  const { historyOf } = options;
  const now = options.now ?? Date.now;
  const onError = options.onError ?? (() => {});
  const prefix = options.prefix ?? "rt:bus:";
  const logMaxLen = options.logMaxLen ?? DEFAULT_LOG_MAX_LEN;
  const maxMessageBytes = options.maxMessageBytes ?? REDIS_MAX_MESSAGE_BYTES;
  const commandTimeoutMs = options.commandTimeoutMs ?? 2_000;
  if (!options.redis && !options.url) {
    throw new Error("Cannot create the Redis bus: no client or URL");
  }
  const owned = !options.redis;
  const client = options.redis ??
    await openRedis(options.url!, { commandTimeoutMs, connectionName: "rt-bus", onError });
  let reader: RedisClient;
  try {
    reader = await openBlockingConnection(client, BLOCK_MS, onError);
  } catch (err) {
    if (owned) await closeRedis(client);
    throw new Error(`Cannot open the Redis bus's reading connection: ${describe(err)}`, {
      cause: err,
    });
  }

  const seqKey = `${prefix}seq`;
  const eraKey = `${prefix}era`;
  const logKeys = Array.from({ length: SHARDS }, (_, i) => `${prefix}log:${i}`);
  const headKey = (channel: string) => `${prefix}h:${channel}`;
  const historyKey = (channel: string) => `${prefix}s:${channel}`;
  const markerKey = (channel: string, key: string) =>
    `${prefix}i:${JSON.stringify([channel, key])}`;

  const listeners: ((m: BusMessage) => void)[] = [];
  const gapListeners: ((shard: number, of: (c: string) => number) => void)[] = [];
  const stats: BusStats = newBusStats("redis");
  /** A command missed its deadline and none has succeeded since: Redis is slow or stopped. */
  let stalled = false;
  const queue = createGroupCommit<PendingPublish>({
    keyOf: latestKey,
    replaced: settleWithNewer,
    // As many as one script call may carry (at least one).
    take(pending) {
      let n = 0;
      let bytes = 0;
      while (
        n < pending.length && n < MAX_BATCH_MESSAGES &&
        (n === 0 || bytes + pending[n].bytes <= MAX_BATCH_BYTES)
      ) {
        bytes += pending[n].bytes;
        n++;
      }
      return n;
    },
    commit: (batch) => commit(batch),
  });
  let closed = false;
  /** Ends the reader's pause between two attempts (when closing). */
  let wake = () => {};

  /** Runs a command; records whether Redis answers in time. */
  async function command<T>(run: () => Promise<T>): Promise<T> {
    try {
      const result = await run();
      stalled = false;
      return result;
    } catch (err) {
      if (describe(err).includes("timed out")) stalled = true;
      throw err;
    }
  }

  // ---- delivering --------------------------------------------------------------------

  const lastId: string[] = new Array(SHARDS).fill("0-0");
  const lastSeq: number[] = new Array(SHARDS).fill(0);
  const lastEra: string[] = new Array(SHARDS).fill("");
  {
    // Where every log ends now, read atomically with the sequence numbers.
    const tx = client.multi();
    for (const key of logKeys) tx.xrevrange(key, "+", "-", "COUNT", 1);
    tx.hgetall(seqKey);
    const replies = await command(() => tx.exec()) as [Error | null, unknown][] | null;
    if (!replies) throw new Error("Cannot start the Redis bus: reading the logs was aborted");
    const seqs = (replies[SHARDS][1] ?? {}) as Record<string, string>;
    for (let shard = 0; shard < SHARDS; shard++) {
      const [err, tail] = replies[shard] as [Error | null, StreamEntry[]];
      if (err) throw err;
      if (tail.length > 0) {
        lastId[shard] = tail[0][0];
        lastSeq[shard] = Number(field(tail[0][1], "q"));
        lastEra[shard] = field(tail[0][1], "a") ?? "";
      } else {
        lastSeq[shard] = Number(seqs[shard] ?? 0);
      }
    }
  }

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

  function reportGap(shard: number): void {
    stats.gaps++;
    for (const listener of gapListeners) {
      try {
        listener(shard, shardOf);
      } catch (err) {
        onError(err);
      }
    }
  }

  function deliver(shard: number, entries: StreamEntry[]): void {
    for (const [id, fields] of entries) {
      const q = Number(field(fields, "q"));
      // Not the next one: entries were trimmed unread, or Redis lost them (restarted).
      if (q !== lastSeq[shard] + 1) reportGap(shard);
      // Back in time within one era: Redis lost writes this process had seen, and the
      // publisher did not know (it started since). A new era, so that no channel hands
      // out again offsets clients have seen (see PUBLISH_LUA). Another era already: the
      // publisher saw it, or Redis lost everything (no head left to reuse).
      const era = field(fields, "a") ?? "";
      if (q <= lastSeq[shard] && era === lastEra[shard]) {
        command(() => bumpEraScript.run(client, [eraKey], [era, newEpoch()])).catch(onError);
      }
      lastEra[shard] = era;
      lastSeq[shard] = q;
      lastId[shard] = id;
      let messages: BusMessage[];
      try {
        messages = JSON.parse(field(fields, "m") ?? "[]");
      } catch (err) {
        onError(new Error(`Cannot read bus log entry ${id} of shard ${shard}: ${describe(err)}`));
        reportGap(shard);
        continue;
      }
      for (const m of messages) emit(m);
    }
  }

  const reading = (async () => {
    let backoff = 0;
    while (!closed) {
      try {
        const reply = await command(() =>
          reader.xread(
            "COUNT",
            READ_COUNT,
            "BLOCK",
            BLOCK_MS,
            "STREAMS",
            ...logKeys,
            ...lastId,
          ) as Promise<[string, StreamEntry[]][] | null>
        );
        backoff = 0;
        for (const [key, entries] of reply ?? []) deliver(logKeys.indexOf(key), entries);
      } catch (err) {
        if (closed) break;
        onError(err);
        backoff = Math.min(1_000, Math.max(50, backoff * 2));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, backoff);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  })();

  // ---- publishing --------------------------------------------------------------------

  async function commit(batch: PendingPublish[]): Promise<void> {
    const ts = Math.trunc(now());
    const keys = [seqKey, eraKey, ...logKeys];
    const args: (string | number)[] = [ts, logMaxLen, IDEMPOTENCY_TTL_MS, newEpoch(), ...lastSeq];
    const epochs = new Map<string, string>();
    for (const p of batch) {
      const policy = historyOf(p.channel);
      const keyed = p.idempotencyKey !== undefined;
      keys.push(
        headKey(p.channel),
        historyKey(p.channel),
        keyed ? markerKey(p.channel, p.idempotencyKey!) : headKey(p.channel),
      );
      let epoch = epochs.get(p.channel);
      if (!epoch) epochs.set(p.channel, epoch = newEpoch());
      args.push(
        keyed ? "1" : "0",
        Math.max(0, Math.trunc(policy.size)),
        policy.size > 0 ? Math.max(0, Math.trunc(policy.ttlMs)) : 0,
        headTtlMs(policy),
        shardOf(p.channel),
        epoch,
        p.body,
      );
    }
    let answers: string[];
    try {
      answers = await command(() => publishScript.run(client, keys, args)) as string[];
    } catch (err) {
      const reason = new Error(
        `Cannot publish to ${batch[0].channel}: Redis did not commit (${describe(err)}); retry`,
        { cause: err },
      );
      for (const p of batch) p.reject(reason);
      return;
    }
    stats.commits++;
    let committed = 0;
    batch.forEach((p, i) => {
      const [kind, epoch, offset, stored] = String(answers[i]).split(" ");
      if (kind === "d") stats.duplicates++;
      else committed++;
      p.resolve({
        channel: p.channel,
        epoch,
        offset: Number(offset),
        ts: kind === "d" ? Number(stored) : ts,
        data: p.data,
        ...(p.from ? { from: p.from } : {}),
        ...(p.fromName ? { fromName: p.fromName } : {}),
      });
    });
    stats.published += committed;
    stats.lastBatch = committed;
    stats.maxBatch = Math.max(stats.maxBatch, committed);
  }

  /** The message's JSON after its `{` and its bytes, checked; throws BusRejection. */
  function encode(
    channel: string,
    data: unknown,
    opts: PublishOptions,
  ): { body: string; bytes: number } {
    const reject = (reason: "too_large" | "unstorable", why: string) =>
      new BusRejection(reason, `Cannot publish to ${channel}: ${why}`);
    if (channel.length > MAX_NAME_CHARS || (opts.idempotencyKey?.length ?? 0) > MAX_NAME_CHARS) {
      throw reject("unstorable", `the channel or publish id is longer than ${MAX_NAME_CHARS}`);
    }
    const message = {
      channel,
      data,
      ...(opts.from ? { from: opts.from } : {}),
      ...(opts.fromName ? { fromName: opts.fromName } : {}),
    };
    try {
      // The same values as the KV engine: JSON-like, at most 64 levels with the envelope.
      storedSizeBound(message);
    } catch (err) {
      if (!(err instanceof UnstorableValueError)) throw err;
      throw reject("unstorable", err.message);
    }
    const json = JSON.stringify(message);
    // The envelope the script adds: epoch, offset and time.
    const bytes = utf8Bytes(json) + 64;
    if (bytes > maxMessageBytes) {
      throw reject(
        "too_large",
        `${bytes} bytes stored exceeds the bus limit of ${maxMessageBytes}`,
      );
    }
    return { body: json.slice(1), bytes };
  }

  return {
    publish(channel, data, opts: PublishOptions = {}) {
      if (closed) return Promise.reject(new Error("Cannot publish: the bus is closed"));
      let encoded: { body: string; bytes: number };
      try {
        encoded = encode(channel, data, opts);
      } catch (err) {
        stats.rejected++;
        return Promise.reject(err);
      }
      if (queue.size >= MAX_PENDING) {
        return Promise.reject(
          new Error(`Cannot publish to ${channel}: ${MAX_PENDING} publishes wait for Redis; retry`),
        );
      }
      return new Promise<BusMessage>((resolve, reject) => {
        queue.push({
          channel,
          data,
          from: opts.from,
          fromName: opts.fromName,
          idempotencyKey: opts.idempotencyKey,
          latest: opts.latest,
          ...encoded,
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
    async position(channel) {
      const [head] = await read(channel, ["pos", "", "", "", "0"]);
      return head;
    },
    async recover(channel, since): Promise<Recovery> {
      const size = historyOf(channel).size;
      const from = Math.trunc(since.offset) + 1;
      // The range only if the head reaches `since`; its end is checked below.
      const [current, entries] = await read(channel, [
        "range",
        `${from}-0`,
        `${from + Math.max(0, size)}-0`,
        "",
        String(Math.max(0, Math.trunc(since.offset))),
      ]);
      const fail = (): Recovery => {
        stats.recoveries.notRecovered++;
        return { recovered: false, position: current };
      };
      if (since.epoch !== current.epoch || !(since.offset <= current.offset)) return fail();
      const wanted = current.offset - since.offset;
      if (wanted > size) return fail();
      const messages = entries.filter((m) => m.offset <= current.offset);
      const contiguous = messages.length === wanted &&
        messages.every((m, i) => m.offset === since.offset + 1 + i && m.epoch === current.epoch);
      if (!contiguous) return fail();
      stats.recoveries.recovered++;
      return { recovered: true, position: current, messages };
    },
    async history(channel, query: HistoryQuery): Promise<HistoryPage> {
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
      const { size, ttlMs } = historyOf(channel);
      if (size <= 0) {
        return { position: (await read(channel, ["pos", "", "", "", "0"]))[0], messages: [] };
      }
      // Newest first from below `before`; the kept range is cut to `size` once the head is known.
      const end = query.before === undefined
        ? "+"
        : `${Math.max(0, Math.min(Number.MAX_SAFE_INTEGER, Math.ceil(query.before) - 1))}-0`;
      const [position, entries] = await read(channel, [
        "rev",
        end,
        "-",
        String(Math.min(limit, size)),
        "1",
      ]);
      const oldest = Math.max(1, position.offset - size + 1);
      const notBefore = now() - ttlMs;
      const messages = entries.filter((m) =>
        m.epoch === position.epoch && m.offset >= oldest && m.offset <= position.offset &&
        (query.before === undefined || m.offset < query.before) && m.ts > notBefore
      );
      return { position, messages: messages.reverse() };
    },
    stats: () => ({ ...structuredClone(stats), up: isUp() }),
    async close() {
      closed = true;
      await queue.idle();
      const readerClosed = closeRedis(reader);
      wake();
      await reading;
      await readerClosed;
      if (owned) await closeRedis(client);
    },
  };

  function isUp(): boolean {
    return !closed && !stalled && client.status === "ready" && reader.status === "ready";
  }

  /** Head and entries of `channel` (READ_LUA); the head's empty epoch when it has none. */
  async function read(channel: string, args: string[]): Promise<[Position, BusMessage[]]> {
    const reply = await command(() =>
      readScript.run(client, [headKey(channel), historyKey(channel), eraKey], args)
    ) as [] | [string, string, StreamEntry[]];
    if (reply.length === 0) {
      return [{ epoch: emptyEpoch(historyOf(channel), now()), offset: 0 }, []];
    }
    const [epoch, offset, entries] = reply;
    const messages: BusMessage[] = [];
    for (const [id, fields] of entries) {
      try {
        messages.push(JSON.parse(field(fields, "m") ?? "null"));
      } catch (err) {
        onError(new Error(`Cannot read history entry ${id} of ${channel}: ${describe(err)}`));
      }
    }
    return [{ epoch, offset: Number(offset) }, messages.filter((m) => m !== null)];
  }
}
