/**
 * Latest values under overload: flow control (a client behind on a ping gets only the newest
 * value of each latest-value channel; ordered channels stay exact or close with 4001) and
 * coalesced fan-out (values published faster than the event loop turns: newest wins).
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { DEFAULT_FLOW, Outbound } from "./outbound.ts";
import { Connection } from "./connection.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import { createGatewayMetrics } from "./metrics.ts";
import { fakeTransport } from "./_fake_transport.ts";
import { jsonCodec } from "../protocol/codec.ts";
import { testHub, user } from "./_test_util.ts";
import type { FakeTransport } from "./_fake_transport.ts";
import { deadline } from "../../tests/_deadline.ts";

const prices = (t: FakeTransport, channel = "prices:A") =>
  t.frames.filter((f) => f.type === "message" && f.channel === channel).map((f) =>
    (f.data as { n: number }).n
  );
const pings = (t: FakeTransport) => t.ofType("ping").length;

Deno.test("[hub flow] a client behind on a ping gets the newest value; the skipped ones never", () => {
  const { hub, clock, connect } = testHub({ flow: DEFAULT_FLOW });
  const slow = connect(user("slow"));
  const fast = connect(user("fast"));
  for (const c of [slow, fast]) c.send({ type: "subscribe", channel: "prices:A" });

  hub.deliver("prices:A", { n: 1 });
  equal(pings(slow.t), 1, "the first latest value is followed by a flow ping");
  fast.send({ type: "pong" });
  for (let n = 2; n <= 10; n++) {
    clock.advance(DEFAULT_FLOW.lagMs + 1);
    hub.deliver("prices:A", { n });
    // The fast client answers every ping at once.
    if (fast.conn.pingSentAt !== null) fast.send({ type: "pong" });
  }
  deepStrictEqual(prices(fast.t), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  // The slow one has not answered its ping: from 101 ms on it is behind.
  deepStrictEqual(prices(slow.t), [1]);
  equal(slow.conn.pending.size, 1);
  equal(hub.stats().behind, 1);
  ok(hub.metrics.conflations.value() >= 8, "9 held values, newest wins: 8 conflations");

  // Its pong: everything sent before the ping was read; the newest value goes at once.
  slow.send({ type: "pong" });
  deepStrictEqual(prices(slow.t), [1, 10]);
  equal(slow.conn.pending.size, 0);
  equal(hub.stats().behind, 0);
  // Caught up: the next value goes straight out.
  clock.advance(DEFAULT_FLOW.pingMs);
  slow.send({ type: "pong" });
  hub.deliver("prices:A", { n: 11 });
  deepStrictEqual(prices(slow.t), [1, 10, 11]);
});

Deno.test("[hub flow] more unacknowledged bytes than the window hold latest values at once", () => {
  const flow = { ...DEFAULT_FLOW, windowBytes: 1_000 };
  const { hub, connect } = testHub({ flow });
  const c = connect(user("u"));
  c.send({ type: "subscribe", channel: "prices:A" });
  const pad = "x".repeat(300);
  for (let n = 1; n <= 10; n++) hub.deliver("prices:A", { n, pad });
  // No time passed: the window, not the lag, stops it after ~1 000 bytes.
  const got = prices(c.t);
  // (the window counts from the connection's start: `connected` and `subscribed` too)
  ok(got.length >= 1 && got.length <= 4, `written before the window closed: ${got}`);
  equal(c.conn.pending.size, 1, "then held, newest only");
  c.send({ type: "pong" });
  equal(prices(c.t).at(-1), 10, "the newest value after the pong");
});

Deno.test("[hub flow] ordered channels stay exact for a client behind, or close with 4001", () => {
  const { hub, clock, connect } = testHub({
    flow: DEFAULT_FLOW,
    limits: { maxBufferedBytes: 10_000 },
  });
  const c = connect(user("u"));
  c.send({ type: "subscribe", channel: "prices:A" });
  c.send({ type: "subscribe", channel: "system" });
  hub.deliver("prices:A", { n: 0 });
  clock.advance(DEFAULT_FLOW.lagMs + 1); // the flow ping is now late: behind
  for (let n = 1; n <= 20; n++) {
    hub.deliver("prices:A", { n });
    hub.deliver("system", { n });
  }
  deepStrictEqual(prices(c.t), [0], "latest values held");
  deepStrictEqual(
    prices(c.t, "system"),
    Array.from({ length: 20 }, (_, i) => i + 1),
    "every ordered message, in order",
  );
  // The socket's own buffer over the bound: an ordered message closes it as a slow consumer.
  c.t.bufferedAmount = 20_000;
  hub.deliver("system", { n: 21 });
  equal(c.t.closed?.code, 4001);
  equal(prices(c.t, "system").length, 20, "nothing after the bound");
});

Deno.test("[hub flow] the pong of a flow ping passes the rate limit", () => {
  const { hub, connect } = testHub({
    flow: DEFAULT_FLOW,
    limits: { messagesPerSecond: 1, messageBurst: 1 },
  });
  const c = connect(user("u"));
  c.send({ type: "subscribe", channel: "prices:A" }); // the one token
  hub.deliver("prices:A", { n: 1 });
  ok(c.conn.pingSentAt !== null, "a flow ping is outstanding");
  c.send({ type: "pong" });
  equal(c.conn.pingSentAt, null, "the pong was taken");
  equal(c.t.ofType("error").length, 0, "and not refused");
  c.send({ type: "ping" });
  equal(c.t.ofType("pong").length, 0, "other messages are still limited");
});

Deno.test("[hub coalesce] values published before the event loop turns go out once: the newest", async () => {
  const { hub, connect } = testHub({ coalesceLatest: true });
  const a = connect(user("a"));
  const b = connect(user("b"));
  for (const c of [a, b]) {
    c.send({ type: "subscribe", channel: "prices:A" });
    c.send({ type: "subscribe", channel: "prices:B" });
    c.send({ type: "subscribe", channel: "system" });
  }
  for (let n = 1; n <= 5; n++) {
    hub.deliver("prices:A", { n });
    hub.deliver("system", { n });
  }
  hub.deliver("prices:B", { n: 1 });
  deepStrictEqual(prices(a.t), [], "latest values wait for the macrotask");
  deepStrictEqual(prices(a.t, "system"), [1, 2, 3, 4, 5], "ordered ones go at once");
  await deadline(
    new Promise((r) => setTimeout(r, 5)),
    1_000,
    "the coalesced fan-out timer",
  );
  for (const c of [a, b]) {
    deepStrictEqual(prices(c.t), [5]);
    deepStrictEqual(prices(c.t, "prices:B"), [1]);
  }
  equal(hub.metrics.conflations.value(), 4);
  hub.deliver("prices:A", { n: 6 });
  hub.stop(); // sends what waits
  deepStrictEqual(prices(a.t), [5, 6]);
});

Deno.test("[hub flow] a busy server does not take clients for slow readers by bytes", () => {
  let lag = 0;
  const out = new Outbound({
    limits: DEFAULT_LIMITS,
    metrics: createGatewayMetrics({
      connections: () => 1,
      subscriptions: () => 1,
      channels: () => 1,
    }),
    flow: { ...DEFAULT_FLOW, windowBytes: 1_000 },
    now: () => 1_000,
    loopLagMs: () => lag,
    disconnect: () => {},
    ping: () => {},
  });
  const conn = new Connection("c1", fakeTransport(), jsonCodec, "10.0.0.1", user("u"), 0, {
    perSecond: 10,
    burst: 10,
    pingIntervalMs: 25_000,
  });
  conn.pingSentAt = 1_000; // a ping just went out
  conn.bytesOut = 5_000; // far more than the window unacknowledged
  equal(out.lagging(conn, 1_000), true, "an idle server: the window says behind");
  lag = DEFAULT_FLOW.busyLagMs + 5;
  equal(out.lagging(conn, 1_000), false, "its own loop late: bytes say nothing");
  equal(
    out.lagging(conn, 1_000 + DEFAULT_FLOW.lagMs + lag + 1),
    true,
    "a pong late beyond the lag and the loop's delay, with bytes unread, still does",
  );
  conn.bytesOut = 500; // within the window
  equal(
    out.lagging(conn, 1_000 + DEFAULT_FLOW.lagMs + lag + 1),
    false,
    "busy: a late pong alone is the server's delay as likely as the client's",
  );
  lag = 0;
  equal(out.lagging(conn, 1_000 + DEFAULT_FLOW.lagMs + 1), true, "idle: a late pong alone does");
});
