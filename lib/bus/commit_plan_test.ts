/**
 * The commit planner: pure inputs → plan. The last tests hand the largest plans to a real
 * (in-memory) KV, which must accept them, and check the limits are KV's own.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { serialize } from "node:v8";
import {
  busHeadKey,
  busHistoryKey,
  busIdempotencyKey,
  busLogKey,
  busPointerKey,
} from "../kv/keys.ts";
import type { BusMessage, HistoryPolicy } from "./engine.ts";
import {
  cannotCommit,
  type ChannelHead,
  type CommitCost,
  type CommitInput,
  type CommitLimits,
  type CommitPlan,
  HEAD_TTL_MARGIN_MS,
  IDEMPOTENCY_TTL_MS,
  type IdempotencyMarker,
  KV_COMMIT_LIMITS,
  kvKeyBytes,
  LOG_TTL_MS,
  MAX_LOG_ENTRY_BYTES,
  MAX_MESSAGE_BYTES,
  planCommit,
  type PlannedPublish,
  planReads,
  publishCost,
  shardCost,
  shardOf,
  type ShardPointer,
  takeBatch,
} from "./commit_plan.ts";
import { storedSize } from "./stored_size.ts";

const POLICY: HistoryPolicy = { size: 3, ttlMs: 60_000 };
const NOW = 1_700_000_000_000;

/** A publish measured as the KV bus measures it (the largest epoch, offset and time). */
function publish(channel: string, data: unknown, idempotencyKey?: string): PlannedPublish {
  const largest = {
    channel,
    epoch: "x".repeat(12),
    offset: Number.MAX_SAFE_INTEGER,
    ts: Number.MAX_SAFE_INTEGER,
    data,
  };
  return { channel, data, idempotencyKey, bytes: storedSize(largest, MAX_MESSAGE_BYTES) };
}

function plan(
  batch: PlannedPublish[],
  state: Partial<Omit<CommitInput<PlannedPublish>, "batch">> = {},
): CommitPlan<PlannedPublish> {
  let epochs = 0;
  return planCommit({
    batch,
    markers: new Map(),
    pointers: new Map(),
    heads: new Map(),
    historyOf: () => POLICY,
    now: NOW,
    newEpoch: () => `epoch${++epochs}`,
    ...state,
  });
}

const offsets = (placed: { message: BusMessage }[]) =>
  placed.map(({ message: m }) => `${m.channel}@${m.epoch}:${m.offset}`);

/** The writes of a plan as `set key [expireIn]` / `delete key` lines. */
const lines = (p: CommitPlan<unknown>) =>
  p.writes.map((w) =>
    w.type === "delete"
      ? `delete ${JSON.stringify(w.key)}`
      : `set ${JSON.stringify(w.key)}${w.expireIn === undefined ? "" : ` ${w.expireIn}`}`
  );

/** What a plan really takes of each limit, counted as KV counts it. */
function realCost(p: CommitPlan<unknown>): CommitCost {
  let keyBytes = 0;
  let totalBytes = 0;
  for (const c of p.checks) {
    keyBytes += kvKeyBytes(c.key);
    totalBytes += kvKeyBytes(c.key);
  }
  for (const w of p.writes) {
    const k = kvKeyBytes(w.key);
    keyBytes += k;
    totalBytes += w.type === "set" ? 2 * k + serialize(w.value).byteLength : k;
  }
  return { checks: p.checks.length, mutations: p.writes.length, keyBytes, totalBytes };
}

function sum(costs: CommitCost[]): CommitCost {
  return costs.reduce((a, b) => ({
    checks: a.checks + b.checks,
    mutations: a.mutations + b.mutations,
    keyBytes: a.keyBytes + b.keyBytes,
    totalBytes: a.totalBytes + b.totalBytes,
  }));
}

function within(cost: CommitCost, limits: CommitLimits): boolean {
  return cost.checks <= limits.checks && cost.mutations <= limits.mutations &&
    cost.keyBytes <= limits.keyBytes && cost.totalBytes <= limits.totalBytes;
}

/** The estimated cost of `batch` taken whole: its publishes and every shard's pointer. */
function estimate(batch: PlannedPublish[], keepsHistory = true): CommitCost {
  const shards = [...new Set(batch.map((p) => shardOf(p.channel)))];
  return sum([
    ...batch.map((p) => publishCost(p, keepsHistory)),
    ...shards.map(shardCost),
  ]);
}

const queued = (batch: PlannedPublish[], keepsHistory = true) =>
  batch.map((p) => ({ channel: p.channel, cost: publishCost(p, keepsHistory) }));

Deno.test("[commit plan] offsets follow each channel's head; a headless channel starts an epoch", () => {
  const a = "room:a";
  const b = "room:b";
  const heads = new Map<string, ChannelHead>([[a, { epoch: "old", offset: 5, ts: NOW - 1 }]]);
  const p = plan([publish(a, 1), publish(b, 2), publish(a, 3)], { heads });
  deepStrictEqual(offsets(p.committed), [`${a}@old:6`, `${b}@epoch1:1`, `${a}@old:7`]);
  deepStrictEqual(p.committed.map((c) => c.message.data), [1, 2, 3]);
  ok(p.committed.every((c) => c.message.ts === NOW), "one time for the commit");
  deepStrictEqual(p.answered, []);
  deepStrictEqual(p.repeats, []);
  const ttl = POLICY.ttlMs;
  const expected = [
    // History: each message, expiring with the channel's TTL; the entry `size` back goes.
    `set ${JSON.stringify(busHistoryKey(a, 6))} ${ttl}`,
    `delete ${JSON.stringify(busHistoryKey(a, 3))}`,
    `set ${JSON.stringify(busHistoryKey(b, 1))} ${ttl}`,
    `set ${JSON.stringify(busHistoryKey(a, 7))} ${ttl}`,
    `delete ${JSON.stringify(busHistoryKey(a, 4))}`,
    // Heads: once per channel, living a margin longer than the newest message.
    `set ${JSON.stringify(busHeadKey(a))} ${ttl + HEAD_TTL_MARGIN_MS}`,
    `set ${JSON.stringify(busHeadKey(b))} ${ttl + HEAD_TTL_MARGIN_MS}`,
  ];
  deepStrictEqual(lines(p).slice(0, expected.length), expected);
  const headA = p.writes.find((w) => JSON.stringify(w.key) === JSON.stringify(busHeadKey(a)));
  deepStrictEqual(headA?.type === "set" && headA.value, { epoch: "old", offset: 7, ts: NOW });
});

Deno.test("[commit plan] log entries per shard after its pointer, which is checked and advanced", () => {
  // Two channels on different shards.
  const a = "room:a";
  const b = ["room:b", "room:c", "room:d", "room:e"].find((c) => shardOf(c) !== shardOf(a))!;
  const [sa, sb] = [shardOf(a), shardOf(b)];
  const pointers = new Map<number, ShardPointer>([[sa, { seq: 41, versionstamp: "0001" }]]);
  const p = plan([publish(a, 1), publish(b, 2), publish(a, 3)], { pointers });
  deepStrictEqual(
    p.logs.map((l) => ({
      shard: l.shard,
      from: l.from,
      data: l.entries.map((e) => e.map((m) => m.data)),
    })),
    [
      { shard: sa, from: 42, data: [[1, 3]] },
      { shard: sb, from: 1, data: [[2]] },
    ].sort((x, y) => x.shard - y.shard),
  );
  // The pointer of each shard written: checked as read (absent: null) and advanced.
  deepStrictEqual(
    new Set(p.checks.map((c) => JSON.stringify(c))),
    new Set([
      JSON.stringify({ key: busPointerKey(sa), versionstamp: "0001" }),
      JSON.stringify({ key: busPointerKey(sb), versionstamp: null }),
    ]),
  );
  const tail = lines(p).slice(-4);
  for (const [shard, seq] of [[sa, 42], [sb, 1]]) {
    ok(tail.includes(`set ${JSON.stringify(busLogKey(shard, seq))} ${LOG_TTL_MS}`), `log ${shard}`);
    ok(tail.includes(`set ${JSON.stringify(busPointerKey(shard))}`), `pointer ${shard}`);
  }
  const pointer = p.writes.find((w) => JSON.stringify(w.key) === JSON.stringify(busPointerKey(sa)));
  deepStrictEqual(pointer?.type === "set" && pointer.value, { seq: 42 });
});

Deno.test("[commit plan] a log entry holds at most 56 KiB of messages; a larger message goes alone", () => {
  const big = (n: number) => publish("room:a", "a".repeat(n)); // Latin-1: one byte a character
  const batch = [big(30_000), big(30_000), big(58_000), publish("room:a", 1), publish("room:a", 2)];
  ok(batch[0].bytes + batch[1].bytes > MAX_LOG_ENTRY_BYTES);
  ok(batch[2].bytes > MAX_LOG_ENTRY_BYTES);
  const p = plan(batch, {
    pointers: new Map([[shardOf("room:a"), { seq: 7, versionstamp: "0002" }]]),
  });
  deepStrictEqual(p.logs.length, 1);
  deepStrictEqual(p.logs[0].entries.map((e) => e.map((m) => m.offset)), [[1], [2], [3], [4, 5]]);
  equal(p.logs[0].from, 8);
  const pointer = p.writes.at(-1)!;
  deepStrictEqual(pointer.type === "set" && pointer.value, { seq: 11 });
});

Deno.test("[commit plan] no history kept: no history writes; no TTL: the head never expires", () => {
  const none = plan([publish("room:a", 1)], { historyOf: () => ({ size: 0, ttlMs: 60_000 }) });
  ok(!lines(none).some((l) => l.includes('"h"')), "no history entry");
  deepStrictEqual(lines(none)[0], `set ${JSON.stringify(busHeadKey("room:a"))}`);
  const forever = plan([publish("room:a", 1)], { historyOf: () => ({ size: 5, ttlMs: 0 }) });
  ok(lines(forever).includes(`set ${JSON.stringify(busHeadKey("room:a"))}`), "head without expiry");
});

Deno.test("[commit plan] idempotency: a key committed before answers, a repeat answers its first, per channel", () => {
  const a = "room:a";
  const b = "room:b";
  const marker: IdempotencyMarker = { channel: a, epoch: "old", offset: 3, ts: NOW - 5 };
  const batch = [
    publish(a, "done before", "k1"),
    publish(a, "first", "k2"),
    publish(a, "plain"),
    publish(a, "repeat", "k2"),
    publish(b, "same key, other channel", "k2"),
    publish(a, "done before again", "k1"),
  ];
  const reads = planReads(batch);
  deepStrictEqual(reads.markers.map((m) => m.key), [
    busIdempotencyKey(a, "k1"),
    busIdempotencyKey(a, "k2"),
    busIdempotencyKey(b, "k2"),
  ]);
  deepStrictEqual(reads.channels, [a, b]);
  const markers = new Map([[reads.markers[0].scope, marker]]);
  const heads = new Map<string, ChannelHead>([[a, { epoch: "old", offset: 3, ts: NOW - 5 }]]);
  const p = plan(batch, { markers, heads });
  deepStrictEqual(p.answered.map((x) => x.message), [
    { ...marker, data: "done before" },
    { ...marker, data: "done before again" },
  ]);
  deepStrictEqual(offsets(p.committed), [`${a}@old:4`, `${a}@old:5`, `${b}@epoch1:1`]);
  deepStrictEqual(p.repeats.map((x) => x.message), [{ ...p.committed[0].message, data: "repeat" }]);
  // Each key written is checked absent and remembered for IDEMPOTENCY_TTL_MS.
  for (const [channel, offset] of [[a, 4], [b, 1]] as const) {
    const key = busIdempotencyKey(channel, "k2");
    ok(p.checks.some((c) => JSON.stringify(c) === JSON.stringify({ key, versionstamp: null })));
    const set = p.writes.find((w) => JSON.stringify(w.key) === JSON.stringify(key));
    ok(set?.type === "set" && set.expireIn === IDEMPOTENCY_TTL_MS);
    deepStrictEqual(set.value, {
      channel,
      epoch: channel === a ? "old" : "epoch1",
      offset,
      ts: NOW,
    });
  }
  ok(!p.writes.some((w) => JSON.stringify(w.key) === JSON.stringify(busIdempotencyKey(a, "k1"))));
});

Deno.test("[commit plan] every publish answered: nothing to check or write", () => {
  const batch = [publish("room:a", 1, "k"), publish("room:a", 2, "k")];
  const scope = planReads(batch).markers[0].scope;
  const marker = { channel: "room:a", epoch: "e", offset: 9, ts: NOW };
  const p = plan(batch, { markers: new Map([[scope, marker]]) });
  equal(p.answered.length, 2);
  deepStrictEqual([p.committed, p.repeats, p.checks, p.writes, p.logs], [[], [], [], [], []]);
});

/** Queues that each fill a commit up to one of KV's limits first. */
const FULL_COMMITS: { limit: keyof CommitLimits; batch: PlannedPublish[] }[] = [
  // 1 000 mutations: small messages with history on many channels (4 mutations each).
  {
    limit: "mutations",
    batch: Array.from({ length: 400 }, (_, i) => publish(`room:${i % 40}`, { i })),
  },
  // 100 checks: idempotent publishes (one check each, besides the pointer's).
  {
    limit: "checks",
    batch: Array.from({ length: 150 }, (_, i) => publish("room:a", { i }, `user:${i}`)),
  },
  // 80 KiB of keys: channels of 1 000 characters.
  {
    limit: "keyBytes",
    batch: Array.from({ length: 60 }, (_, i) => publish(`room:${"x".repeat(990)}${i}`, i)),
  },
  // 800 KiB in all: messages near the 60 KiB limit, each stored twice.
  {
    limit: "totalBytes",
    batch: Array.from({ length: 12 }, (_, i) => publish(`room:${i % 3}`, "a".repeat(59_000))),
  },
];

Deno.test("[commit plan] a batch fills a commit up to KV's limits, and its real plan stays within", () => {
  for (const { limit, batch } of FULL_COMMITS) {
    const n = takeBatch(queued(batch));
    ok(n > 1 && n < batch.length, `${limit}: ${n} of ${batch.length}`);
    const taken = estimate(batch.slice(0, n));
    const more = estimate(batch.slice(0, n + 1));
    ok(within(taken, KV_COMMIT_LIMITS), `${limit}: ${JSON.stringify(taken)}`);
    ok(more[limit] > KV_COMMIT_LIMITS[limit], `${limit}: the next publish would exceed it`);
    const real = realCost(plan(batch.slice(0, n)));
    for (const name of ["checks", "mutations", "keyBytes", "totalBytes"] as const) {
      ok(real[name] <= taken[name], `${limit}: ${name} ${real[name]} ≤ estimated ${taken[name]}`);
    }
  }
});

Deno.test("[commit plan] a message too big alone is refused before the queue, and goes alone if queued", () => {
  match(
    cannotCommit(publish("room:a", "a".repeat(70_000)), true)!,
    /exceeds the bus limit of 61440/,
  );
  match(cannotCommit(publish(`room:${"€".repeat(700)}`, 1), true)!, /key of \d+ bytes exceeds/);
  match(
    cannotCommit(publish("room:a", 1, "k".repeat(2_100)), true)!,
    /key of \d+ bytes exceeds KV's limit of 2048/,
  );
  equal(cannotCommit(publish("room:a", "a".repeat(59_000)), true), null);
  // Under tighter limits (a smaller store, say) the same message no longer fits alone.
  const tight = { ...KV_COMMIT_LIMITS, totalBytes: 100 * 1024 };
  match(
    cannotCommit(publish("room:a", "a".repeat(59_000)), true, tight)!,
    /alone it exceeds a commit's totalBytes/,
  );
  const queue = queued([publish("room:a", "a".repeat(59_000)), publish("room:a", 1)]);
  equal(takeBatch(queue, tight), 1, "the big one alone");
  equal(takeBatch(queue.slice(1), tight), 1);
  equal(takeBatch([]), 0);
});

/** Writes `p` to `kv` as the KV bus does. */
function commit(
  kv: Deno.Kv,
  p: CommitPlan<unknown>,
): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
  const op = kv.atomic();
  op.check(...p.checks);
  for (const w of p.writes) {
    if (w.type === "delete") op.delete(w.key);
    else op.set(w.key, w.value, w.expireIn === undefined ? undefined : { expireIn: w.expireIn });
  }
  return op.commit();
}

Deno.test("[commit plan] KV accepts the fullest commits, and its limits are the planner's", async () => {
  for (const { limit, batch } of FULL_COMMITS) {
    using kv = await Deno.openKv(":memory:");
    const n = takeBatch(queued(batch));
    const result = await commit(kv, plan(batch.slice(0, n)));
    ok(result.ok, `${limit}: ${n} publishes commit`);
  }
  using kv = await Deno.openKv(":memory:");
  const over = async (build: (op: Deno.AtomicOperation) => void) => {
    const op = kv.atomic();
    build(op);
    return await op.commit().then(() => "committed", (err) => String(err));
  };
  const { checks, mutations } = KV_COMMIT_LIMITS;
  match(
    await over((op) =>
      op.check(
        ...Array.from({ length: checks + 1 }, (_, i) => ({ key: ["c", i], versionstamp: null })),
      )
    ),
    /check/i,
  );
  match(
    await over((op) => {
      for (let i = 0; i <= mutations; i++) op.set(["m", i], 1);
    }),
    /mutation/i,
  );
  equal(
    await over((op) => {
      for (let i = 0; i < mutations; i++) op.set(["m", i], 1);
    }),
    "committed",
  );
});
