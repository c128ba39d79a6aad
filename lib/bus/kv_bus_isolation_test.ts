/**
 * One publisher's message never fails another's (issue 10, item 6), publish ids are
 * per channel (item 9), and empty channels leave nothing in KV (item 10).
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { type BusMessage, BusRejection } from "./engine.ts";
import { busHeadKey } from "../kv/keys.ts";
import { createKvBus, HEAD_TTL_MARGIN_MS, IDEMPOTENCY_TTL_MS, LOG_TTL_MS } from "./kv_bus.ts";

const POLICY = { size: 50, ttlMs: 600_000 };

async function until(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * `kv` whose atomic writes of a value holding `"POISON"` fail as KV fails on a value it
 * cannot store (a TypeError at commit), and which records every `set` with its options.
 */
function poisonedKv(kv: Deno.Kv) {
  const sets: { key: Deno.KvKey; expireIn?: number }[] = [];
  const atomic = () => {
    const op = kv.atomic();
    let poisoned = false;
    const wrapped: Deno.AtomicOperation = new Proxy(op, {
      get(target, prop) {
        if (prop === "set") {
          return (key: Deno.KvKey, value: unknown, options?: { expireIn?: number }) => {
            if (JSON.stringify(value).includes("POISON")) poisoned = true;
            sets.push({ key, expireIn: options?.expireIn });
            target.set(key, value, options);
            return wrapped;
          };
        }
        if (prop === "commit") {
          return () =>
            poisoned
              ? Promise.reject(new TypeError("Value too large (max 65536 bytes)"))
              : target.commit();
        }
        const member = Reflect.get(target, prop);
        return typeof member === "function"
          ? (...args: unknown[]) => {
            const result = member.apply(target, args);
            return result === target ? wrapped : result;
          }
          : member;
      },
    });
    return wrapped;
  };
  const wrapped: Deno.Kv = new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") return atomic;
      const member = Reflect.get(target, prop);
      return typeof member === "function" ? member.bind(target) : member;
    },
  });
  return { kv: wrapped, sets };
}

Deno.test("[bus] a poisoned batch: the good messages commit in order, only the bad one fails", async () => {
  using raw = await Deno.openKv(":memory:");
  const { kv } = poisonedKv(raw);
  const bus = await createKvBus({ kv, historyOf: () => POLICY, pollMs: 0 });
  const delivered: BusMessage[] = [];
  bus.onMessage((m) => delivered.push(m));
  try {
    // 40 publishes of one tick (one batch), two of them poisoned, on two channels.
    const results = await Promise.allSettled(
      Array.from(
        { length: 40 },
        (_, i) => bus.publish(i % 2 ? "room:a" : "room:b", i === 13 || i === 30 ? "POISON" : { i }),
      ),
    );
    const failed = results.flatMap((r, i) => r.status === "rejected" ? [[i, r.reason]] : []);
    deepStrictEqual(failed.map(([i]) => i), [13, 30]);
    for (const [, reason] of failed) {
      ok(reason instanceof BusRejection, String(reason));
      equal((reason as BusRejection).reason, "too_large");
    }
    const ok_ = results.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
    for (const channel of ["room:a", "room:b"]) {
      const offsets = ok_.filter((m) => m.channel === channel).map((m) => m.offset);
      deepStrictEqual(offsets, offsets.map((_, i) => i + 1), `${channel}: gap-free, in order`);
    }
    deepStrictEqual(
      ok_.map((m) => (m.data as { i: number }).i),
      Array.from({ length: 40 }, (_, i) => i).filter((i) => i !== 13 && i !== 30),
      "in publish order",
    );
    await until(() => delivered.length === 38, "38 deliveries");
    for (const channel of ["room:a", "room:b"]) {
      const of = (list: BusMessage[]) =>
        list.filter((m) => m.channel === channel).map((m) => m.offset);
      deepStrictEqual(of(delivered), of(ok_), `${channel}: delivered once each, in order`);
    }
    const stats = bus.stats();
    equal(stats.rejected, 2);
    ok(stats.isolations >= 2, `${stats.isolations} splits`);
    const history = await bus.history("room:b", { limit: 100 });
    equal(history.messages.length, 19, "20 publishes on room:b, one poisoned");
  } finally {
    await bus.close();
  }
});

Deno.test("[bus] a message KV cannot store is refused at publish, alone, permanently", async () => {
  using kv = await Deno.openKv(":memory:");
  const bus = await createKvBus({ kv, historyOf: () => POLICY, pollMs: 0 });
  try {
    let deep: unknown = 1;
    for (let i = 0; i < 3_600; i++) deep = [deep];
    const attempts = [
      bus.publish("room:x", deep),
      bus.publish("room:x", { at: new Date() }),
      bus.publish("room:x", { bytes: new Uint8Array(10) }),
      bus.publish("room:x", "€".repeat(40_000)), // two bytes each in V8: 80 000
      bus.publish("room:x", { good: 1 }),
    ];
    const results = await Promise.allSettled(attempts);
    const reasons = results.map((r) =>
      r.status === "rejected" && r.reason instanceof BusRejection ? r.reason.reason : "ok"
    );
    deepStrictEqual(reasons, ["unstorable", "unstorable", "unstorable", "too_large", "ok"]);
    equal((results[4] as PromiseFulfilledResult<BusMessage>).value.offset, 1);
    // A value whose bound exceeds the limit is measured for real: 8 000 small integers
    // (16 KiB of JSON) take 16 KiB, not the 96 KiB bound.
    const ints = JSON.parse(`[${new Array(8_000).fill(1).join(",")}]`);
    equal((await bus.publish("room:x", ints)).offset, 2);
    // Latin-1 text up to the limit: 30 000 characters, stored one byte each.
    equal((await bus.publish("room:x", "é".repeat(30_000))).offset, 3);
    equal(bus.stats().rejected, 4);
  } finally {
    await bus.close();
  }
});

Deno.test("[bus] an idempotency key is per channel: the same key elsewhere is another publish", async () => {
  using kv = await Deno.openKv(":memory:");
  const bus = await createKvBus({ kv, historyOf: () => POLICY, pollMs: 0 });
  try {
    const a = await bus.publish("room:a", "in a", { idempotencyKey: "u1:m1" });
    const b = await bus.publish("room:b", "in b", { idempotencyKey: "u1:m1" });
    equal(b.channel, "room:b");
    equal(b.offset, 1);
    deepStrictEqual((await bus.history("room:b", { limit: 5 })).messages.map((m) => m.data), [
      "in b",
    ]);
    // Within one batch too, and repeats on each channel still answer the first commit.
    const [c, d, c2] = await Promise.all([
      bus.publish("room:a", "x", { idempotencyKey: "u1:m2" }),
      bus.publish("room:b", "y", { idempotencyKey: "u1:m2" }),
      bus.publish("room:a", "x", { idempotencyKey: "u1:m2" }),
    ]);
    deepStrictEqual([c.channel, c.offset, d.channel, d.offset], ["room:a", 2, "room:b", 2]);
    equal(c2.offset, c.offset);
    const again = await bus.publish("room:a", "in a", { idempotencyKey: "u1:m1" });
    deepStrictEqual([again.channel, again.offset, again.epoch], [a.channel, a.offset, a.epoch]);
    equal(bus.stats().published, 4);
  } finally {
    await bus.close();
  }
});

Deno.test("[bus] reading empty channels writes nothing; what a publish writes all expires", async () => {
  using raw = await Deno.openKv(":memory:");
  const { kv, sets } = poisonedKv(raw);
  const bus = await createKvBus({ kv, historyOf: () => POLICY, pollMs: 0 });
  const count = async () => {
    let n = 0;
    for await (const _ of raw.list({ prefix: [] })) n++;
    return n;
  };
  try {
    const before = await count();
    for (let i = 0; i < 3_000; i++) {
      const channel = `room:empty-${i}`;
      const position = await bus.position(channel);
      equal(position.offset, 0);
      equal((await bus.history(channel, { limit: 10 })).messages.length, 0);
      equal((await bus.recover(channel, position)).recovered, true);
    }
    equal(await count(), before, "3 000 positions, histories and recoveries stored nothing");
    equal(sets.length, 0);
    await bus.publish("room:used", { hello: 1 }, { idempotencyKey: "u:1" });
    const permanent = sets.filter((s) => s.expireIn === undefined).map((s) => s.key);
    deepStrictEqual(
      permanent.map((k) => k.slice(0, 2)),
      [["bus", "ptr"]],
      "only the shard pointer",
    );
    const ttl = (key: Deno.KvKey) => sets.find((s) => String(s.key) === String(key))?.expireIn;
    equal(ttl(busHeadKey("room:used")), POLICY.ttlMs + HEAD_TTL_MARGIN_MS);
    equal(ttl(["bus", "h", "room:used", 1]), POLICY.ttlMs);
    equal(sets.find((s) => s.key[1] === "idem")?.expireIn, IDEMPOTENCY_TTL_MS);
    equal(sets.find((s) => s.key[1] === "log")?.expireIn, LOG_TTL_MS);
  } finally {
    await bus.close();
  }
});

Deno.test("[bus] an empty channel's epoch: recovery is exact before, across and after a lifetime", async () => {
  let clock = 1_800_000_000_000;
  using kv = await Deno.openKv(":memory:");
  const bus = await createKvBus({ kv, historyOf: () => POLICY, pollMs: 0, now: () => clock });
  try {
    const empty = await bus.position("room:r");
    equal(empty.offset, 0);
    // Nothing happened: recovering from the empty position replays nothing, successfully.
    deepStrictEqual(await bus.recover("room:r", empty), {
      recovered: true,
      position: empty,
      messages: [],
    });
    // A message came: the stored epoch differs, so the client reloads (never a silent gap).
    const first = await bus.publish("room:r", "one");
    equal((await bus.recover("room:r", empty)).recovered, false);
    equal((await bus.recover("room:r", { epoch: first.epoch, offset: 0 })).recovered, true);
    // Everything expired (the head is gone), a lifetime later: the empty epoch is another.
    clock += POLICY.ttlMs + HEAD_TTL_MARGIN_MS;
    await kv.delete(busHeadKey("room:r"));
    const later = await bus.position("room:r");
    equal(later.offset, 0);
    ok(later.epoch !== empty.epoch, `${later.epoch} vs ${empty.epoch}`);
    equal((await bus.recover("room:r", empty)).recovered, false);
  } finally {
    await bus.close();
  }
});
