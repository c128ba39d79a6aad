import { deepStrictEqual, equal, rejects } from "node:assert/strict";
import { busHistoryKey } from "../kv/keys.ts";
import { retryWhileLocked } from "../kv/open.ts";
import { createKvBus } from "./kv_bus.ts";

const data = (page: { messages: { data: unknown }[] }) => page.messages.map((m) => m.data);
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

Deno.test("[bus] history: the newest `limit` kept messages, oldest first, with the position", async () => {
  using kv = await Deno.openKv(":memory:");
  const bus = await createKvBus({ kv, historyOf: () => ({ size: 20, ttlMs: 60_000 }) });
  try {
    const empty = await bus.history("room:r", { limit: 10 });
    deepStrictEqual(empty.messages, []);
    equal(empty.position.offset, 0);
    for (let i = 1; i <= 30; i++) await bus.publish("room:r", i, { from: i % 2 ? "a" : "b" });
    await bus.publish("room:other", "x");
    const page = await bus.history("room:r", { limit: 5 });
    deepStrictEqual(page.position, await bus.position("room:r"));
    equal(page.position.offset, 30);
    deepStrictEqual(data(page), [26, 27, 28, 29, 30]);
    deepStrictEqual(page.messages.map((m) => m.offset), [26, 27, 28, 29, 30]);
    deepStrictEqual(
      page.messages.map((m) => [m.channel, m.epoch, m.from]),
      [26, 27, 28, 29, 30].map((i) => ["room:r", page.position.epoch, i % 2 ? "a" : "b"]),
    );
    deepStrictEqual(data(await bus.history("room:r", { limit: 100 })), range(11, 30), "size 20");
  } finally {
    await bus.close();
  }
});

Deno.test("[bus] history: `before` pages back without overlap or gap, down to the oldest kept", async () => {
  using kv = await Deno.openKv(":memory:");
  const bus = await createKvBus({ kv, historyOf: () => ({ size: 50, ttlMs: 60_000 }) });
  try {
    for (let i = 1; i <= 47; i++) await bus.publish("room:r", i);
    const seen: number[][] = [];
    let before: number | undefined;
    for (;;) {
      const page = await bus.history("room:r", { limit: 10, ...(before ? { before } : {}) });
      if (page.messages.length === 0) break;
      seen.push(page.messages.map((m) => m.offset));
      before = page.messages[0].offset;
    }
    deepStrictEqual(seen, [range(38, 47), range(28, 37), range(18, 27), range(8, 17), range(1, 7)]);
    deepStrictEqual(data(await bus.history("room:r", { limit: 3, before: 1_000 })), [45, 46, 47]);
    deepStrictEqual(data(await bus.history("room:r", { limit: 3, before: 0 })), []);
    await rejects(() => bus.history("room:r", { limit: 0 }), /limit 0 is not within/);
    await rejects(() => bus.history("room:r", { limit: 5, before: -1 }), /is not an offset/);
    await rejects(() => bus.history("room:r", { limit: 5, before: NaN }), /is not an offset/);
  } finally {
    await bus.close();
  }
});

Deno.test("[bus] history skips messages past the TTL and from an earlier epoch, whatever KV still holds", async () => {
  let clock = 1_000_000;
  using kv = await Deno.openKv(":memory:");
  const bus = await createKvBus({
    kv,
    now: () => clock,
    historyOf: () => ({ size: 10, ttlMs: 60_000 }),
  });
  try {
    for (let i = 1; i <= 4; i++) {
      await bus.publish("room:r", i);
      clock += 20_000;
    }
    // Published at +0, +20, +40, +60 s; now +80 s: the first two are past the 60 s TTL
    // (KV's own expiry is lazy and runs on the real clock: the entries are still there).
    equal((await kv.get(busHistoryKey("room:r", 1))).value !== null, true);
    deepStrictEqual(data(await bus.history("room:r", { limit: 10 })), [3, 4]);
    // An entry from another epoch under a kept offset is not this channel's history.
    const stale = (await kv.get<Record<string, unknown>>(busHistoryKey("room:r", 4))).value!;
    await kv.set(busHistoryKey("room:r", 4), { ...stale, epoch: "other" });
    deepStrictEqual(data(await bus.history("room:r", { limit: 10 })), [3]);
  } finally {
    await bus.close();
  }
});

Deno.test("[bus] history with a size of 0 is empty but has a position", async () => {
  using kv = await Deno.openKv(":memory:");
  const bus = await createKvBus({ kv, historyOf: () => ({ size: 0, ttlMs: 60_000 }) });
  try {
    await bus.publish("room:r", 1);
    const page = await bus.history("room:r", { limit: 10 });
    deepStrictEqual([page.position.offset, page.messages], [1, []]);
  } finally {
    await bus.close();
  }
});

Deno.test("[bus] history is the same from two KV handles on one file publishing in turn", async () => {
  const dir = await Deno.makeTempDir();
  const kvA = retryWhileLocked(await Deno.openKv(`${dir}/kv`));
  const kvB = retryWhileLocked(await Deno.openKv(`${dir}/kv`));
  const policy = () => ({ size: 50, ttlMs: 60_000 });
  const a = await createKvBus({ kv: kvA, historyOf: policy, pollMs: 0 });
  const b = await createKvBus({ kv: kvB, historyOf: policy, pollMs: 0 });
  try {
    await Promise.all(range(1, 40).map((i) => (i % 2 ? a : b).publish("room:r", `m${i}`)));
    const fromA = await a.history("room:r", { limit: 25 });
    const fromB = await b.history("room:r", { limit: 25 });
    equal(fromA.position.offset, 40);
    deepStrictEqual(fromA.messages.map((m) => m.offset), range(16, 40));
    deepStrictEqual(fromB, fromA);
  } finally {
    await a.close();
    await b.close();
    kvA.close();
    kvB.close();
    await Deno.remove(dir, { recursive: true });
  }
});
