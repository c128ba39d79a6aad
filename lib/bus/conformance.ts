/**
 * One behavioural test suite for every bus engine ({@linkcode BusEngine}): what the
 * gateway relies on, whatever stores the messages. `runBusConformance("kv", …)` and
 * `runBusConformance("redis", …)` register the same cases (lib/bus/*_conformance_test.ts).
 *
 * A backend is one shared store (a KV file, a Redis server); every engine made from it
 * sees the same channels, as the isolates and processes of one deployment do.
 *
 * @module
 */
import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { type BusEngine, type BusMessage, BusRejection, type HistoryPolicy } from "./engine.ts";
import { shardOf } from "./kv_bus.ts";
import { waitFor } from "../../tests/_deadline.ts";

/** What an engine of the suite is made with. */
export interface ConformanceEngineOptions {
  historyOf: (channel: string) => HistoryPolicy;
  /** The engine's clock; default the real one. */
  now?: () => number;
}

/** One shared store, fresh for each case. */
export interface ConformanceBackend {
  /** A new engine on this backend (as another isolate or process would start one). */
  engine(options: ConformanceEngineOptions): Promise<BusEngine>;
  /**
   * Makes the next log entry of `shard` not follow the last one, as when entries expired
   * or were trimmed before an engine read them: every engine must signal a gap.
   */
  loseLogEntries(shard: number): Promise<void>;
  /** Frees the store (the suite closes its engines first). */
  close(): Promise<void>;
}

/** Options of {@linkcode runBusConformance}. */
export interface ConformanceOptions {
  /** Skip every case (say why before calling). */
  ignore?: boolean;
  /** Deno's op and resource sanitizers (off for clients whose sockets close late). */
  sanitize?: boolean;
}

const policy = (size: number, ttlMs = 60_000) => () => ({ size, ttlMs });
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
const WAIT_MS = 10_000;

function collect(bus: BusEngine): BusMessage[] {
  const got: BusMessage[] = [];
  bus.onMessage((m) => got.push(m));
  return got;
}

async function until(check: () => boolean, what: string): Promise<void> {
  await waitFor(check, { timeoutMs: WAIT_MS, what, intervalMs: 5 });
}

/** Registers the suite's cases under `[bus:<name>]`. */
export function runBusConformance(
  name: string,
  makeBackend: () => Promise<ConformanceBackend>,
  options: ConformanceOptions = {},
): void {
  const sanitize = options.sanitize ?? true;
  /** Runs `fn` with a fresh backend; closes the engines it made, then the backend. */
  function test(
    title: string,
    fn: (
      make: (o: ConformanceEngineOptions) => Promise<BusEngine>,
      b: ConformanceBackend,
    ) => Promise<void>,
  ): void {
    Deno.test({
      name: `[bus:${name}] ${title}`,
      ignore: options.ignore,
      sanitizeOps: sanitize,
      sanitizeResources: sanitize,
      async fn() {
        const backend = await makeBackend();
        const engines: BusEngine[] = [];
        try {
          await fn(async (o) => {
            const engine = await backend.engine(o);
            engines.push(engine);
            return engine;
          }, backend);
        } finally {
          for (const engine of engines) await engine.close();
          await backend.close();
        }
      },
    });
  }

  test("offsets per channel from 1, one epoch, delivered in order, once", async (make) => {
    const bus = await make({ historyOf: policy(100) });
    const got = collect(bus);
    const results = await Promise.all(
      Array.from({ length: 150 }, (_, i) => bus.publish(i % 2 ? "room:a" : "room:b", { i })),
    );
    for (const channel of ["room:a", "room:b"]) {
      const mine = results.filter((m) => m.channel === channel);
      deepStrictEqual(mine.map((m) => m.offset), range(1, 75), `${channel}: offsets`);
      equal(new Set(mine.map((m) => m.epoch)).size, 1, `${channel}: one epoch`);
    }
    deepStrictEqual(
      results.filter((m) => m.channel === "room:a").map((m) => (m.data as { i: number }).i),
      range(0, 74).map((i) => 2 * i + 1),
      "offsets follow publish order",
    );
    await until(() => got.length >= 150, "150 deliveries");
    for (const channel of ["room:a", "room:b"]) {
      deepStrictEqual(got.filter((m) => m.channel === channel).map((m) => m.offset), range(1, 75));
    }
    equal(got.length, 150, "each once");
    const stats = bus.stats();
    deepStrictEqual([stats.engine, stats.up, stats.published], [name, true, 150]);
    ok(stats.commits < 150, `${stats.commits} commits: publishes of one tick are grouped`);
    equal(stats.delivered, 150);
  });

  test("two engines taking turns on one channel and shard: offsets never repeat or skip", async (make) => {
    // An engine that committed last on a shard may build on what it wrote (KV) — until the
    // other engine commits there: then its pointer check fails and it reads afresh.
    const a = await make({ historyOf: policy(100) });
    const b = await make({ historyOf: policy(100) });
    const sameShard = ["room:t0", ...range(1, 400).map((i) => `room:t${i}`)]
      .filter((c) => shardOf(c) === shardOf("room:t0")).slice(0, 2);
    const [x, y] = sameShard;
    const offsets: number[] = [];
    for (let round = 0; round < 6; round++) {
      offsets.push((await a.publish(x, { round, by: "a" })).offset);
      offsets.push((await a.publish(x, { round, by: "a2" })).offset);
      offsets.push((await b.publish(x, { round, by: "b" })).offset);
      await b.publish(y, { round }); // the same shard, another channel
      offsets.push((await a.publish(x, { round, by: "a3" })).offset);
    }
    deepStrictEqual(offsets, range(1, 24), "every publish on x got the next offset");
    const page = await b.history(x, { limit: 100 });
    deepStrictEqual(page.messages.map((m) => m.offset), range(1, 24));
  });

  test("latest publishes: a waiting value is replaced by a newer one, never stored", async (make) => {
    const bus = await make({ historyOf: policy(1) });
    const got = collect(bus);
    // 100 publishes in one moment: all wait for the same round, so only the newest of each
    // latest channel (and every ordered publish) is committed.
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => {
      if (i % 10 === 0) return bus.publish("room:o", { i });
      return bus.publish(i % 2 ? "prices:a" : "prices:b", { i }, { latest: true });
    }));
    const data = (m: BusMessage) => (m.data as { i: number }).i;
    for (let i = 0; i < 100; i++) {
      if (i % 10 === 0) continue;
      const channel = i % 2 ? "prices:a" : "prices:b";
      equal(results[i].channel, channel);
      equal(data(results[i]), i % 2 ? 99 : 98, `publish ${i} resolved with its channel's newest`);
      equal(results[i].offset, 1);
    }
    deepStrictEqual(
      results.filter((m) => m.channel === "room:o").map(data),
      [0, 10, 20, 30, 40, 50, 60, 70, 80, 90],
      "ordered publishes are never replaced",
    );
    await until(() => got.length >= 12, "12 deliveries");
    deepStrictEqual(got.filter((m) => m.channel === "prices:a").map(data), [99]);
    deepStrictEqual(got.filter((m) => m.channel === "prices:b").map(data), [98]);
    equal((await bus.position("prices:a")).offset, 1, "the replaced values were never stored");
    // A latest publish with an idempotency key is committed as itself.
    const keyed = await Promise.all([
      bus.publish("prices:a", { i: 100 }, { latest: true, idempotencyKey: "k1" }),
      bus.publish("prices:a", { i: 101 }, { latest: true }),
    ]);
    deepStrictEqual(keyed.map(data), [100, 101]);
    deepStrictEqual(keyed.map((m) => m.offset), [2, 3]);
  });

  test("two engines on one store: each sees the other's messages, in order, once", async (make) => {
    const a = await make({ historyOf: policy(1000) });
    const b = await make({ historyOf: policy(1000) });
    const gotA = collect(a);
    const gotB = collect(b);
    const sends: Promise<BusMessage>[] = [];
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 30; i++) {
        sends.push((i % 2 ? a : b).publish(`room:${i % 3}`, { round, i }));
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    const sent = await Promise.all(sends);
    await until(() => gotA.length >= 300 && gotB.length >= 300, "300 deliveries on each engine");
    equal(gotA.length, 300);
    equal(gotB.length, 300);
    for (const channel of ["room:0", "room:1", "room:2"]) {
      const offsetsA = gotA.filter((m) => m.channel === channel).map((m) => m.offset);
      deepStrictEqual(offsetsA, range(1, 100), `${channel}: gap-free on A`);
      deepStrictEqual(
        gotB.filter((m) => m.channel === channel).map((m) => m.data),
        gotA.filter((m) => m.channel === channel).map((m) => m.data),
        `${channel}: the same messages in the same order on B`,
      );
      deepStrictEqual(
        sent.filter((m) => m.channel === channel).map((m) => m.offset).sort((x, y) => x - y),
        range(1, 100),
        `${channel}: publishers of both engines share one offset sequence`,
      );
    }
  });

  test("an empty channel: offset 0, stable, writes nothing; its first message starts an epoch", async (make) => {
    const bus = await make({ historyOf: policy(10) });
    const empty = await bus.position("room:new");
    equal(empty.offset, 0);
    deepStrictEqual(await bus.position("room:new"), empty, "stable while empty");
    deepStrictEqual(await bus.recover("room:new", empty), {
      recovered: true,
      position: empty,
      messages: [],
    });
    deepStrictEqual(await bus.history("room:new", { limit: 5 }), { position: empty, messages: [] });
    const first = await bus.publish("room:new", "one");
    equal(first.offset, 1);
    ok(first.epoch !== empty.epoch, "a stored epoch, never the empty channel's");
    deepStrictEqual(await bus.position("room:new"), { epoch: first.epoch, offset: 1 });
    equal((await bus.recover("room:new", empty)).recovered, false, "a message came: reload");
    const since0 = await bus.recover("room:new", { epoch: first.epoch, offset: 0 });
    deepStrictEqual(since0.recovered && since0.messages.map((m) => m.data), ["one"]);
  });

  test("history: the newest `limit` kept messages, paging back by `before`, bounded by size", async (make) => {
    const bus = await make({
      historyOf: (c) => ({ size: c === "room:none" ? 0 : 20, ttlMs: 60_000 }),
    });
    for (let i = 1; i <= 30; i++) await bus.publish("room:r", i, { from: i % 2 ? "a" : "b" });
    await bus.publish("room:other", "x");
    const page = await bus.history("room:r", { limit: 5 });
    deepStrictEqual(page.position, await bus.position("room:r"));
    equal(page.position.offset, 30);
    deepStrictEqual(page.messages.map((m) => m.data), range(26, 30));
    deepStrictEqual(
      page.messages.map((m) => [m.channel, m.epoch, m.offset, m.from]),
      range(26, 30).map((i) => ["room:r", page.position.epoch, i, i % 2 ? "a" : "b"]),
    );
    deepStrictEqual(
      (await bus.history("room:r", { limit: 100 })).messages.map((m) => m.offset),
      range(11, 30),
      "20 kept",
    );
    const seen: number[][] = [];
    let before: number | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const p = await bus.history("room:r", { limit: 8, ...(before ? { before } : {}) });
      if (p.messages.length === 0) break;
      seen.push(p.messages.map((m) => m.offset));
      before = p.messages[0].offset;
    }
    deepStrictEqual(seen, [range(23, 30), range(15, 22), range(11, 14)], "no overlap, no gap");
    deepStrictEqual(
      (await bus.history("room:r", { limit: 3, before: 1_000 })).messages.map((m) => m.offset),
      [28, 29, 30],
    );
    deepStrictEqual((await bus.history("room:r", { limit: 3, before: 0 })).messages, []);
    await rejects(() => bus.history("room:r", { limit: 0 }), RangeError);
    await rejects(() => bus.history("room:r", { limit: 5, before: -1 }), RangeError);
    await rejects(() => bus.history("room:r", { limit: 5, before: NaN }), RangeError);
    await bus.publish("room:none", 1);
    const none = await bus.history("room:none", { limit: 10 });
    deepStrictEqual(
      [none.position.offset, none.messages],
      [1, []],
      "size 0: a position, no messages",
    );
  });

  test("history skips messages older than the namespace's TTL", async (make) => {
    let clock = Date.now();
    const bus = await make({ historyOf: policy(10, 60_000), now: () => clock });
    for (let i = 1; i <= 4; i++) {
      await bus.publish("room:ttl", i);
      clock += 20_000;
    }
    // Published at +0, +20, +40, +60 s; read at +80 s: the first two are past the 60 s TTL.
    deepStrictEqual((await bus.history("room:ttl", { limit: 10 })).messages.map((m) => m.data), [
      3,
      4,
    ]);
  });

  test("recovery: everything after `since`, or nothing", async (make) => {
    const bus = await make({ historyOf: policy(5) });
    for (let i = 1; i <= 10; i++) await bus.publish("room:rec", i);
    const pos = await bus.position("room:rec");
    equal(pos.offset, 10);
    const some = await bus.recover("room:rec", { epoch: pos.epoch, offset: 7 });
    deepStrictEqual(some.recovered && some.messages.map((m) => [m.offset, m.data]), [
      [8, 8],
      [9, 9],
      [10, 10],
    ]);
    deepStrictEqual(some.position, pos);
    const none = await bus.recover("room:rec", { epoch: pos.epoch, offset: 10 });
    deepStrictEqual(none.recovered && none.messages, []);
    deepStrictEqual(
      await bus.recover("room:rec", { epoch: pos.epoch, offset: 2 }),
      { recovered: false, position: pos },
      "8 missed, 5 kept: nothing replayed",
    );
    equal(
      (await bus.recover("room:rec", { epoch: pos.epoch, offset: 5 })).recovered,
      true,
      "5 missed, 5 kept",
    );
    equal((await bus.recover("room:rec", { epoch: "elsewhere", offset: 9 })).recovered, false);
    equal((await bus.recover("room:rec", { epoch: pos.epoch, offset: 11 })).recovered, false);
    deepStrictEqual(bus.stats().recoveries, { recovered: 3, notRecovered: 3 });
  });

  test("a new engine on the same store continues offsets, epochs and history", async (make) => {
    const first = await make({ historyOf: policy(100) });
    for (let i = 1; i <= 4; i++) await first.publish("room:keep", i);
    const before = await first.position("room:keep");
    await first.close();
    const second = await make({ historyOf: policy(100) });
    deepStrictEqual(await second.position("room:keep"), before);
    const recovered = await second.recover("room:keep", { epoch: before.epoch, offset: 1 });
    deepStrictEqual(recovered.recovered && recovered.messages.map((m) => m.data), [2, 3, 4]);
    const next = await second.publish("room:keep", 5);
    deepStrictEqual([next.epoch, next.offset], [before.epoch, 5]);
  });

  test("an idempotency key commits once per channel; repeats answer the first position", async (make) => {
    const bus = await make({ historyOf: policy(50) });
    const got = collect(bus);
    const first = await bus.publish("room:i", "hello", { idempotencyKey: "u1:m1" });
    const again = await bus.publish("room:i", "hello", { idempotencyKey: "u1:m1" });
    deepStrictEqual([again.channel, again.epoch, again.offset], [
      first.channel,
      first.epoch,
      first.offset,
    ]);
    const elsewhere = await bus.publish("room:j", "in j", { idempotencyKey: "u1:m1" });
    deepStrictEqual(
      [elsewhere.channel, elsewhere.offset],
      ["room:j", 1],
      "another channel: another publish",
    );
    // Within one batch: repeats, the same key on another channel, and another key.
    const [a, b, c, d] = await Promise.all([
      bus.publish("room:i", "x", { idempotencyKey: "u1:m2" }),
      bus.publish("room:i", "x", { idempotencyKey: "u1:m2" }),
      bus.publish("room:j", "y", { idempotencyKey: "u1:m2" }),
      bus.publish("room:i", "z", { idempotencyKey: "u2:m2" }),
    ]);
    deepStrictEqual([a.offset, b.offset, c.channel, c.offset, d.offset], [2, 2, "room:j", 2, 3]);
    await until(() => got.length >= 5, "5 distinct messages delivered");
    const of = (channel: string) => got.filter((m) => m.channel === channel).map((m) => m.data);
    deepStrictEqual(
      [of("room:i"), of("room:j")],
      [["hello", "x", "z"], ["in j", "y"]],
      "each once",
    );
    deepStrictEqual([bus.stats().duplicates, bus.stats().published], [2, 5]);
  });

  test("a message the engine cannot hold is refused at publish, alone, with nothing written", async (make) => {
    const bus = await make({ historyOf: policy(50) });
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    const results = await Promise.allSettled([
      bus.publish("room:x", "x".repeat(70_000)),
      bus.publish("room:x", { at: new Date() }),
      bus.publish("room:x", { missing: undefined }),
      bus.publish("room:x", deep),
      bus.publish("room:x", { good: 1 }),
    ]);
    deepStrictEqual(
      results.map((r) =>
        r.status === "fulfilled"
          ? r.value.offset
          : r.reason instanceof BusRejection
          ? r.reason.reason
          : String(r.reason)
      ),
      ["too_large", "unstorable", "unstorable", "unstorable", 1],
    );
    await rejects(bus.publish("room:big", "€".repeat(40_000)), BusRejection);
    deepStrictEqual((await bus.position("room:big")).offset, 0, "nothing written");
    deepStrictEqual((await bus.history("room:big", { limit: 5 })).messages, []);
    equal(bus.stats().rejected, 5);
  });

  test(
    "lost log entries: every engine signals a gap for that shard, and delivers on",
    async (make, backend) => {
      const a = await make({ historyOf: policy(10) });
      const b = await make({ historyOf: policy(10) });
      const gaps: { engine: string; shard: number; mine: boolean }[] = [];
      const got = { a: collect(a), b: collect(b) };
      a.onGap((shard, of) => gaps.push({ engine: "a", shard, mine: of("room:gap") === shard }));
      b.onGap((shard, of) => gaps.push({ engine: "b", shard, mine: of("room:gap") === shard }));
      await a.publish("room:gap", 1);
      await until(() => got.a.length === 1 && got.b.length === 1, "the first message on both");
      equal(gaps.length, 0, "no gap yet");
      const shard = shardOf("room:gap");
      await backend.loseLogEntries(shard);
      await a.publish("room:gap", 2);
      await until(() => got.a.length === 2 && got.b.length === 2, "the next message on both");
      await until(
        () => gaps.some((g) => g.engine === "b") && gaps.some((g) => g.engine === "a"),
        "a gap on both",
      );
      ok(gaps.every((g) => g.shard === shard && g.mine), JSON.stringify(gaps));
      ok(a.stats().gaps >= 1 && b.stats().gaps >= 1);
      deepStrictEqual(got.b.map((m) => m.offset), [1, 2], "offsets unaffected");
    },
  );

  test("close commits what is pending first", async (make) => {
    const bus = await make({ historyOf: policy(10) });
    const pending = [bus.publish("room:c", 1), bus.publish("room:c", 2)];
    await bus.close();
    deepStrictEqual((await Promise.all(pending)).map((m) => m.offset), [1, 2]);
    await rejects(bus.publish("room:c", 3), /closed/);
  });
}
