/**
 * The cluster's state on Redis (when `REDIS_URL` is set), on the same connection factory
 * as the Redis bus (lib/bus/redis.ts). One Redis (≥ 7, a single primary, not Redis
 * Cluster: the sweep script names keys it reads from a set). Every check-and-write is one
 * Lua script, so it is atomic against every other process. Keys, under `prefix`
 * (default `rt:cl:`):
 *
 * - `iso`: a sorted set, isolate → `expiresAt` (liveness; the beat moves it).
 * - `p:<channel>`: a hash, `<userId>\n<isolate>` → `{"name","connections"}` (presence).
 * - `prev`: a hash, shard → change counter (polled by every isolate).
 * - `own:<isolate>`: a set of what the isolate wrote (`["p",channel,userId,shard]`,
 *   `["s",userId]`), for the sweeper.
 * - `slot:<userId>`: a hash, isolate → connections (per-user caps).
 * - `att:<scope>:<key>`: a hash `e` (window end), `c` (counted), `f:<isolate>` /
 *   `u:<isolate>` (reservations in flight and until when they hold), `PEXPIRE`d.
 * - `lease:<name>`: the holder, `SET … PX` (Redis's clock decides expiry).
 *
 * Costs, in round trips: a beat is one script (plus one `ZRANGE` by the caller); a
 * presence batch one script per 200 writes; a slot reservation one script, a release
 * one; an attempt's begin and end one script each. A Redis restarted without its data
 * loses this state: each isolate's next beat finds its record gone and writes its
 * entries again; counters and leases start over.
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
import type { Leases } from "../kv/lease.ts";
import { type RedisClient, redisScript } from "../bus/redis.ts";
import {
  type ClusterStore,
  type IsolateRecord,
  PRESENCE_SHARDS,
  type PresenceEntry,
  presenceShard,
  type PresenceWrite,
} from "./types.ts";

/** Options of {@linkcode createRedisClusterStore}. */
export interface RedisClusterStoreOptions {
  /** A connection from `openRedis` (lib/bus/redis.ts); the caller closes it. */
  redis: RedisClient;
  /** This isolate (its attempts in flight are kept apart). */
  isolate: string;
  /** Key prefix, to share one Redis between apps or tests. Default `rt:cl:`. */
  prefix?: string;
  /** Clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** How long an attempt in flight holds without its end recorded, ms. Default 60 000. */
  attemptHoldMs?: number;
  /** Errors of background work (an attempt's end). */
  onError?: (err: unknown) => void;
}

const PRESENCE_BATCH = 200;

const BEAT = redisScript(`
local prev = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
if prev and tonumber(prev) >= tonumber(ARGV[3]) then return 1 end
return 0
`);

const FORGET = redisScript(`
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) <= tonumber(ARGV[2]) then redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`);

const WRITE_PRESENCE = redisScript(`
local prev, own = KEYS[1], KEYS[2]
for i = 3, #KEYS do
  local base = (i - 3) * 4
  local field, value, shard, member = ARGV[base + 1], ARGV[base + 2], ARGV[base + 3], ARGV[base + 4]
  if value == '' then
    redis.call('HDEL', KEYS[i], field)
    redis.call('SREM', own, member)
  else
    redis.call('HSET', KEYS[i], field, value)
    redis.call('SADD', own, member)
  end
  redis.call('HINCRBY', prev, shard, 1)
end
return 0
`);

const SWEEP = redisScript(`
local members = redis.call('SRANDMEMBER', KEYS[1], tonumber(ARGV[2]))
for _, m in ipairs(members) do
  local e = cjson.decode(m)
  if e[1] == 'p' then
    redis.call('HDEL', ARGV[3] .. 'p:' .. e[2], e[3] .. '\\n' .. ARGV[1])
    redis.call('HINCRBY', KEYS[2], tostring(e[4]), 1)
  elseif e[1] == 's' then
    redis.call('HDEL', ARGV[3] .. 'slot:' .. e[2], ARGV[1])
  end
  redis.call('SREM', KEYS[1], m)
end
return #members
`);

/** The user's connections on isolates not known dead (`ZSCORE` below `now`). */
const SLOTS_LUA = `
local function others(slot, iso, me, now)
  local fields = redis.call('HGETALL', slot)
  local n = 0
  for i = 1, #fields, 2 do
    if fields[i] ~= me then
      local score = redis.call('ZSCORE', iso, fields[i])
      if not (score and tonumber(score) < now) then n = n + tonumber(fields[i + 1]) end
    end
  end
  return n
end
`;

const RESERVE_SLOT = redisScript(`${SLOTS_LUA}
if others(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[4])) + tonumber(ARGV[2]) > tonumber(ARGV[3]) then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[5])
return 1
`);

const SLOTS_OF = redisScript(`${SLOTS_LUA}
return others(KEYS[1], KEYS[2], '', tonumber(ARGV[1]))
`);

const SET_SLOT = redisScript(`
if tonumber(ARGV[2]) > 0 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('SADD', KEYS[2], ARGV[3])
else
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('SREM', KEYS[2], ARGV[3])
end
return 0
`);

/** Loading and storing an attempt counter (a hash), as of `now`. */
const ATTEMPT_LUA = `
local function load(key, now, win)
  local h = redis.call('HGETALL', key)
  local rec = { e = 0, c = 0, f = {} }
  for j = 1, #h, 2 do
    local k, v = h[j], h[j + 1]
    if k == 'e' then rec.e = tonumber(v)
    elseif k == 'c' then rec.c = tonumber(v)
    else
      local kind, id = string.sub(k, 1, 2), string.sub(k, 3)
      rec.f[id] = rec.f[id] or { 0, 0 }
      if kind == 'f:' then rec.f[id][1] = tonumber(v) elseif kind == 'u:' then rec.f[id][2] = tonumber(v) end
    end
  end
  if rec.e <= now then rec.e = now + win; rec.c = 0 end
  local inflight = 0
  for id, fu in pairs(rec.f) do
    if fu[1] > 0 and fu[2] > now then inflight = inflight + fu[1] else rec.f[id] = nil end
  end
  return rec, inflight
end
local function store(key, rec, now, hold)
  redis.call('DEL', key)
  local args = { 'e', rec.e, 'c', rec.c }
  for id, fu in pairs(rec.f) do
    table.insert(args, 'f:' .. id); table.insert(args, fu[1])
    table.insert(args, 'u:' .. id); table.insert(args, fu[2])
  end
  redis.call('HSET', key, unpack(args))
  redis.call('PEXPIRE', key, rec.e - now + hold)
end
`;

const ATTEMPT_BEGIN = redisScript(`${ATTEMPT_LUA}
local me, now, win, hold = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local recs, out, wait = {}, { 1 }, 0
for i, key in ipairs(KEYS) do
  local rec, inflight = load(key, now, win)
  local budget = tonumber(ARGV[4 + i])
  if budget >= 0 and rec.c + inflight >= budget then wait = math.max(wait, rec.e - now) end
  recs[i] = rec
  table.insert(out, rec.c); table.insert(out, inflight)
end
if wait > 0 then return { 0, wait } end
for i, key in ipairs(KEYS) do
  local rec = recs[i]
  local mine = rec.f[me]
  rec.f[me] = { (mine and mine[1] or 0) + 1, now + hold }
  store(key, rec, now, hold)
end
return out
`);

const ATTEMPT_END = redisScript(`${ATTEMPT_LUA}
local me, now, win, hold = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
for i, key in ipairs(KEYS) do
  local rec = load(key, now, win)
  local mine = rec.f[me]
  if mine and mine[1] > 1 then mine[1] = mine[1] - 1 else rec.f[me] = nil end
  if ARGV[5] == '1' then rec.c = rec.c + 1 end
  if ARGV[5 + i] == '1' then rec.c = 0 end
  store(key, rec, now, hold)
end
return 0
`);

const ATTEMPT_USAGE = redisScript(`${ATTEMPT_LUA}
local rec, inflight = load(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
return { rec.c, inflight }
`);

const LEASE_ACQUIRE = redisScript(`
local h = redis.call('GET', KEYS[1])
if h == false or h == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`);

const LEASE_RELEASE = redisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
`);

/** A finite number for Lua (`Infinity` does not parse there). */
function finite(n: number): number {
  return Number.isFinite(n) ? n : Number.MAX_SAFE_INTEGER;
}

/** The cluster's state on `redis`. */
export function createRedisClusterStore(options: RedisClusterStoreOptions): ClusterStore {
  const { redis, isolate } = options;
  const prefix = options.prefix ?? "rt:cl:";
  const now = options.now ?? Date.now;
  const onError = options.onError ?? (() => {});
  const holdMs = options.attemptHoldMs ?? 60_000;
  const isoKey = `${prefix}iso`;
  const revKey = `${prefix}prev`;
  const ownKey = (id: string) => `${prefix}own:${id}`;
  const presenceKey = (channel: string) => `${prefix}p:${channel}`;
  const slotKey = (userId: string) => `${prefix}slot:${userId}`;
  const attemptKey = (k: { scope: string; key: string }) =>
    `${prefix}att:${k.scope}:${k.key.slice(0, MAX_ATTEMPT_KEY_CHARS)}`;
  const leaseKey = (name: string) => `${prefix}lease:${name}`;

  // ---- liveness ------------------------------------------------------------------------

  async function beat(record: IsolateRecord): Promise<boolean> {
    const kept = await BEAT.run(redis, [isoKey], [record.isolate, record.expiresAt, now()]);
    return kept === 1;
  }

  async function isolates(limit: number): Promise<IsolateRecord[]> {
    const flat = await redis.zrange(isoKey, "0", String(limit - 1), "WITHSCORES");
    const out: IsolateRecord[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      out.push({ isolate: flat[i], expiresAt: Number(flat[i + 1]), startedAt: 0 });
    }
    return out;
  }

  async function sweep(dead: string, max: number): Promise<number> {
    return Number(await SWEEP.run(redis, [ownKey(dead), revKey], [dead, max, prefix]));
  }

  async function forget(dead: string, expiredBy: number): Promise<void> {
    await FORGET.run(redis, [isoKey], [dead, finite(expiredBy)]);
  }

  // ---- presence ------------------------------------------------------------------------

  async function writePresence(from: string, writes: readonly PresenceWrite[]): Promise<void> {
    for (let i = 0; i < writes.length; i += PRESENCE_BATCH) {
      const keys = [revKey, ownKey(from)];
      const args: (string | number)[] = [];
      for (const w of writes.slice(i, i + PRESENCE_BATCH)) {
        const shard = presenceShard(w.channel);
        keys.push(presenceKey(w.channel));
        args.push(
          `${w.userId}\n${from}`,
          w.connections > 0 ? JSON.stringify({ name: w.name, connections: w.connections }) : "",
          shard,
          JSON.stringify(["p", w.channel, w.userId, shard]),
        );
      }
      await WRITE_PRESENCE.run(redis, keys, args);
    }
  }

  async function listPresence(channel: string, limit: number): Promise<PresenceEntry[]> {
    const key = presenceKey(channel);
    const fields: [string, string][] = [];
    if (await redis.hlen(key) <= limit) {
      fields.push(...Object.entries(await redis.hgetall(key)));
    } else {
      let cursor = "0";
      do {
        const [next, flat] = await redis.hscan(key, cursor, "COUNT", Math.min(limit, 1_000));
        for (let i = 0; i < flat.length && fields.length < limit; i += 2) {
          fields.push([flat[i], flat[i + 1]]);
        }
        cursor = next;
      } while (cursor !== "0" && fields.length < limit);
    }
    const out: PresenceEntry[] = [];
    for (const [field, raw] of fields.slice(0, limit)) {
      const cut = field.lastIndexOf("\n");
      try {
        const value = JSON.parse(raw) as { name: string; connections: number };
        out.push({
          channel,
          userId: field.slice(0, cut),
          isolate: field.slice(cut + 1),
          name: String(value.name),
          connections: Number(value.connections),
        });
      } catch {
        // Not ours: ignored.
      }
    }
    return out;
  }

  async function presenceRevs(): Promise<number[]> {
    const shards = Array.from({ length: PRESENCE_SHARDS }, (_, i) => String(i));
    const values = await redis.hmget(revKey, ...shards);
    return values.map((v) => Number(v ?? 0));
  }

  // ---- slots ---------------------------------------------------------------------------

  async function reserveSlot(
    userId: string,
    owner: string,
    connections: number,
    max: number,
  ): Promise<boolean> {
    const granted = await RESERVE_SLOT.run(
      redis,
      [slotKey(userId), isoKey, ownKey(owner)],
      [owner, connections, max, now(), JSON.stringify(["s", userId])],
    );
    return granted === 1;
  }

  async function setSlot(userId: string, owner: string, connections: number): Promise<void> {
    await SET_SLOT.run(
      redis,
      [slotKey(userId), ownKey(owner)],
      [owner, connections, JSON.stringify(["s", userId])],
    );
  }

  async function slotsOf(userId: string): Promise<number> {
    return Number(await SLOTS_OF.run(redis, [slotKey(userId), isoKey], [now()]));
  }

  // ---- attempts ------------------------------------------------------------------------

  async function begin(
    keys: readonly AttemptKey[],
    windowMs: number,
  ): Promise<AttemptGrant | AttemptRefusal> {
    const redisKeys = keys.map(attemptKey);
    const budgets = keys.map((k) => Number.isFinite(k.budget) ? k.budget : -1);
    const answer = await ATTEMPT_BEGIN.run(
      redis,
      redisKeys,
      [isolate, now(), windowMs, holdMs, ...budgets],
    ) as number[];
    if (answer[0] !== 1) {
      return { ok: false, retryAfterSec: Math.max(1, Math.ceil(answer[1] / 1000)) };
    }
    const before: Usage[] = keys.map((_, i) => ({
      counted: answer[1 + 2 * i],
      inFlight: answer[2 + 2 * i],
    }));
    let ended: Promise<void> | undefined;
    const finish = async (outcome: AttemptOutcome) => {
      const resets = keys.map((k) => outcome.reset?.includes(k.scope) ? "1" : "0");
      await ATTEMPT_END.run(
        redis,
        redisKeys,
        [isolate, now(), windowMs, holdMs, outcome.counted ? "1" : "0", ...resets],
      );
    };
    return {
      ok: true,
      before,
      end(outcome) {
        ended ??= finish(outcome).catch(onError);
        return ended;
      },
    };
  }

  const attempts: AttemptStore = {
    begin,
    async usage(key, windowMs) {
      const [counted, inFlight] = await ATTEMPT_USAGE.run(
        redis,
        [attemptKey(key)],
        [now(), windowMs],
      ) as number[];
      return { counted, inFlight };
    },
    size: 0,
  };

  // ---- leases --------------------------------------------------------------------------

  const leases: Leases = {
    async acquire(name, holder, ttlMs) {
      return await LEASE_ACQUIRE.run(redis, [leaseKey(name)], [holder, Math.max(1, ttlMs)]) === 1;
    },
    async release(name, holder) {
      await LEASE_RELEASE.run(redis, [leaseKey(name)], [holder]);
    },
    async holder(name) {
      return await redis.get(leaseKey(name));
    },
  };

  return {
    engine: "redis",
    beat,
    isolates,
    sweep,
    forget,
    writePresence,
    listPresence,
    presenceRevs,
    reserveSlot,
    setSlot,
    slotsOf,
    attempts,
    leases,
    close: () => Promise.resolve(),
  };
}
