import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import type { BusEngine, BusMessage } from "./engine.ts";
import { busHeadKey, busHistoryPrefix } from "../kv/keys.ts";
import { retryWhileLocked } from "../kv/open.ts";
import { createKvBus, shardOf } from "./kv_bus.ts";

const policy = (size = 100) => () => ({ size, ttlMs: 60_000 });

function collect(bus: BusEngine): BusMessage[] {
  const got: BusMessage[] = [];
  bus.onMessage((m) => got.push(m));
  return got;
}

async function until(check: () => boolean, what: string, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Two KV handles on one temporary file, as two isolates have; `close()` removes it. */
async function twoHandles() {
  const dir = await Deno.makeTempDir();
  const kvA = retryWhileLocked(await Deno.openKv(`${dir}/kv`));
  const kvB = retryWhileLocked(await Deno.openKv(`${dir}/kv`));
  return {
    kvA,
    kvB,
    async close() {
      kvA.close();
      kvB.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("[bus] offsets per channel, one epoch, local delivery in order, group commit", async () => {
  using kv = await Deno.openKv(":memory:");
  const bus = await createKvBus({ kv, historyOf: policy() });
  const got = collect(bus);
  const results = await Promise.all(
    Array.from({ length: 150 }, (_, i) => bus.publish(i % 2 ? "room:a" : "room:b", { i })),
  );
  deepStrictEqual(
    results.filter((m) => m.channel === "room:a").map((m) => m.offset),
    Array.from({ length: 75 }, (_, i) => i + 1),
  );
  equal(new Set(results.filter((m) => m.channel === "room:a").map((m) => m.epoch)).size, 1);
  await until(() => got.length === 150, "local delivery");
  for (const channel of ["room:a", "room:b"]) {
    deepStrictEqual(
      got.filter((m) => m.channel === channel).map((m) => m.offset),
      Array.from({ length: 75 }, (_, i) => i + 1),
    );
  }
  const stats = bus.stats();
  equal(stats.commits, 1, "150 publishes of one tick are one commit");
  equal(stats.maxBatch, 150);
  equal(stats.delivered, 150);
  await bus.close();
});

Deno.test("[bus] two handles on one file: every message reaches both, once, in order", async () => {
  const { kvA, kvB, close } = await twoHandles();
  const a = await createKvBus({ kv: kvA, historyOf: policy(1000) });
  const b = await createKvBus({ kv: kvB, historyOf: policy(1000) });
  const gotA = collect(a);
  const gotB = collect(b);
  try {
    const sends: Promise<BusMessage>[] = [];
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 50; i++) {
        sends.push((i % 2 ? a : b).publish(`room:${i % 3}`, { round, i }));
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(sends);
    await until(() => gotA.length === 500 && gotB.length === 500, "both isolates receive 500");
    for (const channel of ["room:0", "room:1", "room:2"]) {
      const offsetsA = gotA.filter((m) => m.channel === channel).map((m) => m.offset);
      const offsetsB = gotB.filter((m) => m.channel === channel).map((m) => m.offset);
      if (offsetsA.some((o, i) => o !== i + 1)) {
        console.log(
          channel,
          "A",
          JSON.stringify(offsetsA.filter((o, i) => o !== i + 1).slice(0, 10)),
          offsetsA.length,
          JSON.stringify(offsetsA.map((o, i) => o - i - 1).filter((d) => d).slice(0, 5)),
        );
      }
      deepStrictEqual(
        offsetsA,
        Array.from({ length: offsetsA.length }, (_, i) => i + 1),
        `${channel} gap-free on A`,
      );
      deepStrictEqual(offsetsB, offsetsA, `${channel}: the same order on both`);
    }
  } finally {
    await a.close();
    await b.close();
    await close();
  }
});

Deno.test("[bus] recovery: all or nothing", async () => {
  using kv = await Deno.openKv(":memory:");
  const bus = await createKvBus({ kv, historyOf: policy(5) });
  for (let i = 1; i <= 10; i++) await bus.publish("room:r", i);
  const pos = await bus.position("room:r");
  equal(pos.offset, 10);
  const ok1 = await bus.recover("room:r", { epoch: pos.epoch, offset: 7 });
  equal(ok1.recovered, true);
  deepStrictEqual(ok1.recovered && ok1.messages.map((m) => m.data), [8, 9, 10]);
  const current = await bus.recover("room:r", { epoch: pos.epoch, offset: 10 });
  deepStrictEqual(current.recovered && current.messages, []);
  const tooOld = await bus.recover("room:r", { epoch: pos.epoch, offset: 2 });
  deepStrictEqual(
    tooOld,
    { recovered: false, position: pos },
    "8 missed, 5 kept: nothing replayed",
  );
  const otherEpoch = await bus.recover("room:r", { epoch: "elsewhere", offset: 9 });
  equal(otherEpoch.recovered, false);
  const ahead = await bus.recover("room:r", { epoch: pos.epoch, offset: 11 });
  equal(ahead.recovered, false);
  let kept = 0;
  for await (const _ of kv.list({ prefix: busHistoryPrefix("room:r") })) kept++;
  equal(kept, 5, "history is bounded");
  deepStrictEqual(bus.stats().recoveries, { recovered: 2, notRecovered: 3 });
  await bus.close();
});

Deno.test("[bus] history and epoch survive a restart; a lost head starts a new epoch", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/kv`;
  let kv = await Deno.openKv(path);
  let bus = await createKvBus({ kv, historyOf: policy() });
  for (let i = 1; i <= 4; i++) await bus.publish("room:r", i);
  const before = await bus.position("room:r");
  await bus.close();
  kv.close();
  kv = await Deno.openKv(path);
  bus = await createKvBus({ kv, historyOf: policy() });
  deepStrictEqual(await bus.position("room:r"), before);
  const recovered = await bus.recover("room:r", { epoch: before.epoch, offset: 1 });
  deepStrictEqual(recovered.recovered && recovered.messages.map((m) => m.data), [2, 3, 4]);
  equal((await bus.publish("room:r", 5)).offset, 5, "offsets continue");
  await bus.close();
  kv.close();
  // The head is gone (history lost): the next publish starts a new epoch at offset 1.
  kv = await Deno.openKv(path);
  await kv.delete(busHeadKey("room:r"));
  bus = await createKvBus({ kv, historyOf: policy() });
  const fresh = await bus.publish("room:r", 6);
  equal(fresh.offset, 1);
  ok(fresh.epoch !== before.epoch);
  equal((await bus.recover("room:r", { epoch: before.epoch, offset: 5 })).recovered, false);
  await bus.close();
  kv.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("[bus] refuses messages over the KV value limit; a new channel's first message starts its epoch", async () => {
  using kv = await Deno.openKv(":memory:");
  const bus = await createKvBus({ kv, historyOf: policy() });
  await rejects(bus.publish("room:big", "x".repeat(70_000)), /exceeds the bus limit/);
  const p = await bus.position("room:new");
  equal(p.offset, 0);
  deepStrictEqual(await bus.position("room:new"), p, "stable while the channel is empty");
  const first = await bus.publish("room:new", 1);
  equal(first.offset, 1);
  ok(first.epoch !== p.epoch, "a stored epoch, never the empty channel's");
  deepStrictEqual(await bus.position("room:new"), { epoch: first.epoch, offset: 1 });
  ok(shardOf("room:new") >= 0 && shardOf("room:new") < 8);
  await bus.close();
});

Deno.test("[bus] without watch notifications (another process), the poll delivers in order", async () => {
  const { kvA, kvB, close } = await twoHandles();
  // B never hears from watch, as when A is another process: it relies on polling.
  const silentWatch = (() => new ReadableStream({ start() {} })) as unknown as Deno.Kv["watch"];
  kvB.watch = silentWatch;
  const a = await createKvBus({ kv: kvA, historyOf: policy(), pollMs: 0 });
  const b = await createKvBus({ kv: kvB, historyOf: policy(), pollMs: 20 });
  const got = collect(b);
  try {
    for (let i = 1; i <= 30; i++) await a.publish("room:p", i);
    await until(() => got.length === 30, "polled delivery");
    deepStrictEqual(got.map((m) => m.data), Array.from({ length: 30 }, (_, i) => i + 1));
  } finally {
    await a.close();
    await b.close();
    await close();
  }
});

Deno.test("[bus] an idempotency key commits a publish once; repeats get its position", async () => {
  using kv = await Deno.openKv(":memory:");
  const bus = await createKvBus({ kv, historyOf: policy() });
  const got = collect(bus);
  const first = await bus.publish("room:i", "hello", { idempotencyKey: "u1:m1" });
  const again = await bus.publish("room:i", "hello", { idempotencyKey: "u1:m1" });
  deepStrictEqual([again.offset, again.epoch], [first.offset, first.epoch]);
  // Repeats inside one batch, and an unrelated key beside them.
  const [a, b, c] = await Promise.all([
    bus.publish("room:i", "x", { idempotencyKey: "u1:m2" }),
    bus.publish("room:i", "x", { idempotencyKey: "u1:m2" }),
    bus.publish("room:i", "y", { idempotencyKey: "u2:m2" }),
  ]);
  equal(a.offset, b.offset);
  equal(c.offset, a.offset + 1);
  await until(() => got.length === 3, "three distinct messages delivered");
  deepStrictEqual(got.map((m) => m.data), ["hello", "x", "y"]);
  equal(bus.stats().duplicates, 2);
  equal(bus.stats().published, 3);
  await bus.close();
});
