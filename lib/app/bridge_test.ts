/** The bridge between the bus and the hub (lib/app/bridge.ts), on a real hub and a fake bus. */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { type BusEngine, type BusMessage, BusRejection, type BusStats } from "../bus/engine.ts";
import { testHub, user } from "../gateway/_test_util.ts";
import { CloseCode } from "../protocol/codes.ts";
import { waitFor } from "../../tests/_deadline.ts";
import { bridgeBusToHub, publishToBus } from "./bridge.ts";

type Frame = Record<string, unknown>;

/** A bus whose messages and gaps the test emits, and whose publishes it answers. */
function fakeBus(answer: (channel: string) => BusMessage | Error = () => new Error("unused")) {
  const listeners: ((m: BusMessage) => void)[] = [];
  const gapListeners: ((shard: number, shardOf: (c: string) => number) => void)[] = [];
  const published: { channel: string; data: unknown; options: unknown }[] = [];
  const stats = { published: 7, commits: 3, delivered: 11, conflicts: 1, gaps: 2, maxBatch: 5 };
  const bus: Pick<BusEngine, "onMessage" | "onGap" | "stats" | "publish"> = {
    onMessage: (l) => void listeners.push(l),
    onGap: (l) => void gapListeners.push(l),
    stats: () => stats as unknown as BusStats,
    publish(channel, data, options) {
      published.push({ channel, data, options });
      const out = answer(channel);
      return out instanceof Error ? Promise.reject(out) : Promise.resolve(out);
    },
  };
  return {
    bus,
    published,
    emit: (m: BusMessage) => listeners.forEach((l) => l(m)),
    gap: (shard: number, shardOf: (c: string) => number) =>
      gapListeners.forEach((l) => l(shard, shardOf)),
  };
}

Deno.test("[bridge] a bus message reaches the hub's subscribers with its position; its lag is observed", () => {
  const { hub, connect, clock } = testHub();
  const { bus, emit } = fakeBus();
  bridgeBusToHub(bus, hub, { now: clock.now });
  const alice = connect(user("alice"));
  alice.send({ type: "subscribe", channel: "room:a" });
  const ts = clock.now() - 250;
  emit({
    channel: "room:a",
    epoch: "e1",
    offset: 4,
    ts,
    data: { t: "hi" },
    from: "bob",
    fromName: "Bob",
  });
  emit({ channel: "room:other", epoch: "e1", offset: 1, ts, data: 1 });
  deepStrictEqual(alice.t.ofType("message"), [{
    v: 1,
    type: "message",
    channel: "room:a",
    ts,
    data: { t: "hi" },
    from: "bob",
    fromName: "Bob",
    offset: 4,
    epoch: "e1",
  }]);
  equal(hub.metrics.busLagSeconds.count(), 2);
  match(hub.metrics.registry.render(), /realtime_bus_lag_seconds_sum 0\.5\n/);
});

Deno.test("[bridge] a gap closes the subscribers of that shard's channels, and only them, with 4004", () => {
  const { hub, connect } = testHub();
  const { bus, gap } = fakeBus();
  const warned: unknown[] = [];
  bridgeBusToHub(bus, hub, { log: { warn: (_msg, fields) => warned.push(fields) } });
  const onGapShard = connect(user("a"));
  onGapShard.send({ type: "subscribe", channel: "room:x" });
  onGapShard.send({ type: "subscribe", channel: "room:gap" });
  const elsewhere = connect(user("b"));
  elsewhere.send({ type: "subscribe", channel: "room:x" });
  const idle = connect(user("c"));
  const shardOf = (c: string) => c === "room:gap" ? 3 : 0;
  gap(3, shardOf);
  equal(onGapShard.t.closed?.code, CloseCode.Reconnect);
  equal(onGapShard.t.ofType("disconnect").length, 1);
  equal(elsewhere.t.closed, undefined);
  equal(idle.t.closed, undefined);
  deepStrictEqual(warned, [{ shard: 3, connections: 1 }]);
});

Deno.test("[bridge] the bus's counters are exported with the hub's metrics", () => {
  const { hub } = testHub();
  bridgeBusToHub(fakeBus().bus, hub);
  const text = hub.metrics.registry.render();
  for (
    const line of [
      "realtime_bus_published_total 7",
      "realtime_bus_commits_total 3",
      "realtime_bus_delivered_total 11",
      "realtime_bus_conflicts_total 1",
      "realtime_bus_gaps_total 2",
      "realtime_bus_max_batch 5",
    ]
  ) ok(text.includes(`${line}\n`), line);
});

Deno.test("[bridge] a client publish is committed on the bus once per user, channel and id", async () => {
  const committed: BusMessage = { channel: "room:r", epoch: "e9", offset: 12, ts: 1, data: null };
  const { bus, published } = fakeBus(() => committed);
  const { connect } = testHub({ onPublish: publishToBus(bus) });
  const alice = connect(user("alice", { name: "Alice" }));
  alice.send({ type: "publish", id: "m1", channel: "room:r", data: { text: "hello" } });
  await waitFor(() => alice.t.ofType("ack").length, { timeoutMs: 2_000, what: "the ack" });
  deepStrictEqual(published, [{
    channel: "room:r",
    data: { text: "hello" },
    options: { from: "alice", fromName: "Alice", idempotencyKey: "alice:m1" },
  }]);
  const [ack] = alice.t.ofType("ack") as Frame[];
  equal(ack.id, "m1");
  deepStrictEqual(
    [(ack.data as Frame).offset, (ack.data as Frame).epoch],
    [12, "e9"],
  );
});

Deno.test("[bridge] what the bus can never store is refused for good; anything else stays temporary", async () => {
  const reasons: Record<string, Error> = {
    "room:big": new BusRejection("too_large", "Cannot publish to room:big: too large"),
    "room:odd": new BusRejection("unstorable", "Cannot publish to room:odd: it nests deeper"),
    "room:down": new Error("KV unavailable"),
  };
  const { bus } = fakeBus((channel) => reasons[channel]);
  const { connect } = testHub({ onPublish: publishToBus(bus) });
  const alice = connect(user("alice"));
  for (const channel of Object.keys(reasons)) {
    alice.send({ type: "publish", id: channel, channel, data: 1 });
  }
  await waitFor(() => alice.t.ofType("error").length === 3, {
    timeoutMs: 2_000,
    what: "three errors",
  });
  const errors = alice.t.ofType("error").map((f) => {
    const data = f.data as { code: string; temporary: boolean; message: string };
    return [f.id, data.code, data.temporary];
  });
  deepStrictEqual(errors, [
    ["room:big", "payload_too_large", false],
    ["room:odd", "bad_message", false],
    ["room:down", "internal", true],
  ]);
  equal(alice.t.ofType("ack").length, 0);
});
