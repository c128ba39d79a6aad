import { deepStrictEqual, equal, ok, strictEqual } from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { msgpackCodec } from "../protocol/codec.ts";
import type { FakeTransport } from "./_fake_transport.ts";
import { anonymous, testHub, user } from "./_test_util.ts";

const closedCode = (t: FakeTransport) => t.closed?.code;
const code = (f: Record<string, unknown> | undefined) =>
  (f?.data as { code: string } | undefined)?.code;

Deno.test("[hub] greets a connection with session, user, codec, heartbeat and limits", () => {
  const { connect } = testHub({ limits: { pingIntervalMs: 10_000 } });
  const { t, conn } = connect(user("u1", { expiresAt: 5 }));
  deepStrictEqual(t.frames[0], {
    v: 1,
    type: "connected",
    data: {
      session: conn.id,
      server: "iso1",
      user: { id: "u1", name: "u1", anonymous: false, expiresAt: 5 },
      codec: "json",
      heartbeat: { intervalMs: 10_000, timeoutMs: 8_000 },
      limits: {
        maxFrameBytes: 65_536,
        maxPublishBytes: 16_384,
        maxSubscriptions: 128,
        messagesPerSecond: 50,
        messageBurst: 100,
        maxPayloadDepth: 32,
      },
    },
  });
});

Deno.test("[hub] subscribe answers with a snapshot; publish reaches subscribers only, in order", () => {
  const { hub, connect } = testHub();
  const a = connect();
  const b = connect();
  a.send({ type: "subscribe", id: "r1", channel: "prices:A" });
  deepStrictEqual(a.t.frames[1], {
    v: 1,
    type: "subscribed",
    id: "r1",
    channel: "prices:A",
    data: { snapshot: { symbol: "A", price: 1 } },
  });
  equal(hub.deliver("prices:A", { price: 2 }), 1);
  equal(hub.deliver("prices:A", { price: 3 }), 1);
  equal(hub.deliver("prices:B", { price: 9 }), 0);
  deepStrictEqual(a.t.ofType("message").map((m) => (m.data as { price: number }).price), [2, 3]);
  equal(b.t.frames.length, 1, "b only got its greeting");
  const stats = hub.stats();
  equal(stats.connections, 2);
  equal(stats.subscriptions, 1);
  equal(stats.messagesIn, 1);
});

Deno.test("[hub] a broadcast is encoded once per codec, whatever the number of subscribers", () => {
  const { hub, connect } = testHub();
  const json = [connect(), connect(), connect()];
  const packed = [connect(anonymous(), msgpackCodec), connect(anonymous(), msgpackCodec)];
  for (const c of json) c.send({ type: "subscribe", channel: "prices:C" });
  for (const c of packed) c.send(encode({ type: "subscribe", channel: "prices:C" }));
  let jsonEncodes = 0;
  const original = JSON.stringify;
  JSON.stringify = ((...args: Parameters<typeof JSON.stringify>) => {
    jsonEncodes++;
    return original(...args);
  }) as typeof JSON.stringify;
  try {
    equal(hub.deliver("prices:C", { price: 9 }), 5);
  } finally {
    JSON.stringify = original;
  }
  equal(jsonEncodes, 1);
  const jsonFrames = json.map((c) => c.t.raw.at(-1));
  for (const f of jsonFrames) strictEqual(f, jsonFrames[0]);
  const packedFrames = packed.map((c) => c.t.raw.at(-1));
  strictEqual(packedFrames[0], packedFrames[1], "one MessagePack buffer shared");
  ok(packedFrames[0] instanceof Uint8Array);
  deepStrictEqual(packed[0].t.frames.at(-1)?.data, { price: 9 });
});

Deno.test("[hub] channel policies: unknown, unauthorized, forbidden, read-only", () => {
  const { connect } = testHub();
  const anon = connect();
  anon.send({ type: "subscribe", id: "1", channel: "nope:x" });
  anon.send({ type: "subscribe", id: "2", channel: "prices:Z" });
  anon.send({ type: "subscribe", id: "3", channel: "room:lobby" });
  anon.send({ type: "publish", id: "4", channel: "room:lobby", data: 1 });
  const alice = connect(user("alice"));
  alice.send({ type: "subscribe", id: "5", channel: "user:bob" });
  alice.send({ type: "subscribe", id: "6", channel: "user:alice" });
  alice.send({ type: "publish", id: "7", channel: "prices:A", data: { price: 0 } });
  alice.send({ type: "publish", id: "8", channel: "system", data: "hello" });
  const errors = [...anon.t.ofType("error"), ...alice.t.ofType("error")].map((
    f,
  ) => [f.id, code(f)]);
  deepStrictEqual(errors, [
    ["1", "unknown_channel"],
    ["2", "unknown_channel"],
    ["3", "unauthorized"],
    ["4", "unauthorized"],
    ["5", "forbidden"],
    ["7", "forbidden"],
    ["8", "forbidden"],
  ]);
  equal(alice.t.ofType("subscribed")[0].channel, "user:alice");
  const msg = anon.t.ofType("error")[1].data as { message: string };
  equal(msg.message, 'Cannot use prices:Z: unknown symbol "Z"');
});

Deno.test("[hub] subscriptions per connection are bounded", () => {
  const { hub, connect } = testHub({ limits: { maxSubscriptions: 2 } });
  const c = connect();
  for (const s of ["A", "B", "C"]) c.send({ type: "subscribe", id: s, channel: `prices:${s}` });
  c.send({ type: "subscribe", id: "again", channel: "prices:A" });
  deepStrictEqual(c.t.ofType("error").map((f) => [f.id, code(f)]), [[
    "C",
    "too_many_subscriptions",
  ]]);
  equal(c.t.ofType("subscribed").length, 3, "re-subscribing an existing channel is fine");
  equal(hub.stats().subscriptions, 2);
});

Deno.test("[hub] bad frames get structured errors; the connection stays usable", () => {
  const { hub, connect } = testHub();
  const j = connect();
  j.send("{oops");
  j.send(new Uint8Array([1, 2, 3]));
  j.send({ type: "teleport", id: "t1" });
  j.send({ type: "subscribe", channel: 7 });
  j.send({ type: "publish", id: "p", channel: "room:x" });
  j.send("[1,2]");
  deepStrictEqual(j.t.ofType("error").map(code), [
    "bad_frame",
    "bad_frame",
    "unknown_type",
    "bad_message",
    "bad_message",
    "bad_message",
  ]);
  equal(j.t.closed, undefined);
  j.send({ type: "ping", id: "p" });
  deepStrictEqual(j.t.frames.at(-1), { v: 1, type: "pong", id: "p" });
  const m = connect(anonymous(), msgpackCodec);
  m.send('{"type":"ping"}');
  m.send(new Uint8Array([0xc1]));
  deepStrictEqual(m.t.ofType("error").map(code), ["bad_frame", "bad_frame"]);
  m.send(encode({ type: "ping", id: "q" }));
  deepStrictEqual(m.t.frames.at(-1), { v: 1, type: "pong", id: "q" });
  equal(hub.stats().errorsSent, 8);
});

Deno.test("[hub] an oversized frame closes with 1009 after a disconnect frame", () => {
  const { hub, connect } = testHub({ limits: { maxFrameBytes: 100 } });
  const c = connect();
  c.send("x".repeat(101));
  deepStrictEqual(c.t.frames.at(-1), {
    v: 1,
    type: "disconnect",
    data: { code: 1009, reason: "frame of 101 bytes exceeds the limit of 100", reconnect: true },
  });
  deepStrictEqual(c.t.closed, {
    code: 1009,
    reason: "frame of 101 bytes exceeds the limit of 100",
  });
  equal(hub.stats().connections, 0);
  equal(hub.metrics.disconnects.value({ code: "1009" }), 1);
});

Deno.test("[hub] a flood: rate_limited errors (at most one a second), then close 4502", () => {
  const { hub, connect, clock } = testHub({
    limits: { messagesPerSecond: 10, messageBurst: 5, floodStrikes: 20 },
  });
  const c = connect();
  for (let i = 0; i < 10; i++) c.send({ type: "ping", id: `p${i}` });
  equal(c.t.ofType("pong").length, 5, "the burst passes");
  deepStrictEqual(c.t.ofType("error").map(code), ["rate_limited"]);
  equal((c.t.ofType("error")[0].data as { temporary: boolean }).temporary, true);
  clock.advance(1_000);
  for (let i = 0; i < 9; i++) c.send({ type: "ping" });
  equal(c.t.ofType("pong").length, 10, "refilled up to the burst: 5 more pass");
  equal(c.t.closed, undefined);
  for (let i = 0; i < 20; i++) c.send({ type: "ping" });
  equal(closedCode(c.t), 4502);
  equal(hub.metrics.rateLimited.value({ scope: "messages" }) >= 15, true);
  const other = connect(anonymous("anon:2"));
  other.send({ type: "ping", id: "fine" });
  deepStrictEqual(other.t.frames.at(-1), { v: 1, type: "pong", id: "fine" }, "others unaffected");
});

Deno.test("[hub] publish → ack with the delivery count; payload bound; sender id on messages", () => {
  const { connect } = testHub({ limits: { maxPublishBytes: 64 } });
  const alice = connect(user("alice"));
  const bob = connect(user("bob"));
  alice.send({ type: "subscribe", channel: "room:r1" });
  bob.send({ type: "subscribe", channel: "room:r1" });
  bob.send({ type: "publish", id: "m1", channel: "room:r1", data: { text: "hi" } });
  const ack = bob.t.ofType("ack")[0];
  equal(ack.id, "m1");
  equal((ack.data as { deliveredTo: number }).deliveredTo, 2);
  const got = alice.t.ofType("message")[0];
  deepStrictEqual([got.channel, got.data, got.from], ["room:r1", { text: "hi" }, "bob"]);
  bob.send({ type: "publish", id: "m2", channel: "room:r1", data: { text: "x".repeat(100) } });
  deepStrictEqual(bob.t.ofType("error").map((f) => [f.id, code(f)]), [["m2", "payload_too_large"]]);
  equal(alice.t.ofType("message").length, 1);
});

Deno.test("[hub] presence: join once per user, leave after the last connection, bounded list", () => {
  const { hub, connect } = testHub({ limits: { maxPresenceMembers: 2 } });
  const watcher = connect(user("w"));
  watcher.send({ type: "subscribe", channel: "room:r" });
  const a1 = connect(user("alice"));
  const a2 = connect(user("alice"));
  const bob = connect(user("bob"));
  for (const c of [a1, a2, bob]) c.send({ type: "subscribe", channel: "room:r" });
  deepStrictEqual(
    watcher.t.frames.filter((f) => f.type === "join" || f.type === "leave").map((
      f,
    ) => [f.type, (f.data as { userId: string }).userId]),
    [["join", "w"], ["join", "alice"], ["join", "bob"]],
  );
  watcher.send({ type: "presence", id: "q", channel: "room:r" });
  deepStrictEqual(watcher.t.ofType("presence")[0].data, {
    count: 3,
    members: [{ userId: "w", name: "w", connections: 1 }, {
      userId: "alice",
      name: "alice",
      connections: 2,
    }],
    truncated: true,
  });
  hub.closed(a1.conn, 1000);
  equal(watcher.t.ofType("leave").length, 0, "alice still has a connection");
  a2.send({ type: "unsubscribe", channel: "room:r" });
  deepStrictEqual(watcher.t.ofType("leave").map((f) => (f.data as { userId: string }).userId), [
    "alice",
  ]);
  equal(hub.presence.count("room:r"), 2);
  watcher.send({ type: "presence", id: "q2", channel: "prices:A" });
  equal(code(watcher.t.ofType("error")[0]), "unknown_channel");
});

Deno.test("[hub] heartbeat: ping when due, RTT from pong, close 4002 on a missed pong", () => {
  const { hub, connect, clock } = testHub({
    limits: { pingIntervalMs: 1_000, pongTimeoutMs: 500 },
  });
  const a = connect();
  const b = connect(anonymous("anon:2"));
  a.send({ type: "subscribe", channel: "prices:A" });
  b.send({ type: "subscribe", channel: "prices:A" });
  hub.heartbeat();
  equal(a.t.ofType("ping").length, 0, "not yet due");
  clock.advance(1_000);
  hub.heartbeat();
  equal(a.t.ofType("ping").length, 1);
  equal(b.t.ofType("ping").length, 1);
  clock.advance(40);
  a.send({ type: "pong" });
  equal(a.conn.rttMs, 40);
  clock.advance(461);
  hub.heartbeat();
  equal(a.t.closed, undefined);
  deepStrictEqual(b.t.closed, { code: 4002, reason: "no pong within 500 ms" });
  equal(hub.metrics.pingRttSeconds.count(), 1);
  deepStrictEqual(hub.rttSummary(), { p50: 40, p99: 40, measured: 1 });
});

Deno.test("[hub] idle connections without subscriptions close with terminal 4501", () => {
  const { hub, connect, clock } = testHub({
    limits: { idleTimeoutMs: 10_000, pingIntervalMs: 60_000 },
  });
  const idle = connect();
  const busy = connect(anonymous("anon:2"));
  busy.send({ type: "subscribe", channel: "prices:A" });
  clock.advance(10_001);
  hub.heartbeat();
  equal(idle.t.closed?.code, 4501);
  deepStrictEqual((idle.t.frames.at(-1)?.data as { reconnect: boolean }).reconnect, false);
  equal(busy.t.closed, undefined);
});

Deno.test("[hub] credential expiry: `expiring` notice, refresh extends, else close 4003", async () => {
  const tokens: Record<string, string> = { good: "alice", evil: "mallory" };
  const { hub, connect, clock } = testHub({
    limits: { pingIntervalMs: 1e9 },
    auth: {
      verifyAccessToken: (token) =>
        Promise.resolve(
          tokens[token]
            ? {
              ok: true as const,
              principal: user(tokens[token], { expiresAt: 1_000_000 + 600_000 }),
            }
            : {
              ok: false as const,
              status: 401 as const,
              code: "invalid_token",
              message: "the token is not valid",
            },
        ),
    },
  });
  const a = connect(user("alice", { expiresAt: 1_000_000 + 90_000 }));
  a.send({ type: "subscribe", channel: "room:r" });
  clock.advance(29_000);
  hub.heartbeat();
  equal(a.t.ofType("expiring").length, 0);
  clock.advance(2_000);
  hub.heartbeat();
  deepStrictEqual(a.t.ofType("expiring")[0].data, { expiresAt: 1_090_000 });
  a.send({ type: "refresh", id: "r1", token: "nope" });
  await Promise.resolve();
  deepStrictEqual(a.t.ofType("error").map((f) => [f.id, code(f)]), [["r1", "bad_token"]]);
  a.send({ type: "refresh", id: "r2", token: "good" });
  await Promise.resolve();
  deepStrictEqual(a.t.ofType("refreshed")[0], {
    v: 1,
    type: "refreshed",
    id: "r2",
    data: { expiresAt: 1_600_000 },
  });
  clock.advance(100_000);
  hub.heartbeat();
  equal(a.t.closed, undefined, "the refreshed credential holds");
  equal(a.conn.channels.has("room:r"), true, "subscriptions kept");
  const b = connect(user("bob", { expiresAt: 1_131_000 + 1 }));
  clock.advance(6_000);
  hub.heartbeat();
  equal(b.t.closed?.code, 4003);
  a.send({ type: "refresh", id: "r3", token: "evil" });
  await Promise.resolve();
  equal(closedCode(a.t), 4500, "a token of another user is terminal");
  const anon = connect();
  anon.send({ type: "refresh", id: "r4", token: "good" });
  equal(code(anon.t.ofType("error")[0]), "bad_token");
});

Deno.test("[hub] backpressure: latest-value channels conflate while behind, then flush", () => {
  const { hub, connect } = testHub({ limits: { maxBufferedBytes: 1_000 } });
  const slow = connect();
  const fast = connect(anonymous("anon:2"));
  for (const c of [slow, fast]) {
    c.send({ type: "subscribe", channel: "prices:A" });
    c.send({ type: "subscribe", channel: "prices:B" });
  }
  slow.t.bufferedAmount = 5_000;
  for (let i = 1; i <= 50; i++) {
    hub.deliver("prices:A", { price: i });
    hub.deliver("prices:B", { price: -i });
  }
  equal(fast.t.ofType("message").length, 100);
  equal(slow.t.ofType("message").length, 0, "nothing written while behind");
  equal(slow.conn.pending.size, 2, "one held-back frame per channel");
  equal(hub.metrics.conflations.value(), 98);
  hub.flush();
  equal(slow.t.ofType("message").length, 0, "still above the low-water mark");
  slow.t.bufferedAmount = 400;
  hub.flush();
  deepStrictEqual(slow.t.ofType("message").map((m) => m.data), [{ price: 50 }, { price: -50 }]);
  equal(hub.stats().behind, 0);
  equal(slow.t.closed, undefined);
});

Deno.test("[hub] backpressure: ordered channels disconnect a slow consumer with 4001", () => {
  const { hub, connect } = testHub({ limits: { maxBufferedBytes: 1_000 } });
  const slow = connect(user("s"));
  const ok1 = connect(user("o"));
  slow.send({ type: "subscribe", channel: "room:r" });
  ok1.send({ type: "subscribe", channel: "room:r" });
  slow.t.bufferedAmount = 1_001;
  hub.deliver("room:r", { n: 1 });
  equal(slow.t.closed?.code, 4001);
  equal(hub.metrics.slowConsumerCloses.value(), 1);
  equal(ok1.t.ofType("message").length, 1);
  equal(hub.stats().connections, 1);
});

Deno.test("[hub] sendToUser, sendToConnection and conditional broadcast", () => {
  const { hub, connect } = testHub();
  const a1 = connect(user("alice"));
  const a2 = connect(user("alice"));
  const b = connect(user("bob"));
  const note = { v: 1 as const, type: "message" as const, channel: "user:alice", ts: 1, data: "n" };
  equal(hub.sendToUser("alice", note), 2);
  equal(hub.sendToUser("nobody", note), 0);
  equal(a1.t.ofType("message").length + a2.t.ofType("message").length, 2);
  equal(b.t.ofType("message").length, 0);
  equal(hub.sendToConnection(b.conn.id, { v: 1, type: "pong" }), true);
  equal(hub.sendToConnection("missing", { v: 1, type: "pong" }), false);
  const sys = {
    v: 1 as const,
    type: "message" as const,
    channel: "system",
    ts: 1,
    data: "maintenance",
  };
  equal(hub.broadcast(sys, (c) => c.principal.userId === "alice"), 2);
  equal(b.t.ofType("message").length, 0);
  equal(hub.broadcast(sys), 3);
});

Deno.test("[hub] middleware runs in order after validation and may answer or drop", () => {
  const { hub, connect } = testHub();
  const seen: string[] = [];
  hub.use((ctx, next) => {
    seen.push(`log:${ctx.message.type}`);
    return next();
  });
  hub.use((ctx, next) => {
    if (ctx.message.type === "ping" && ctx.message.id === "drop") return;
    return next();
  });
  const c = connect();
  c.send({ type: "ping", id: "drop" });
  c.send({ type: "ping", id: "keep" });
  c.send("{bad");
  deepStrictEqual(seen, ["log:ping", "log:ping"]);
  deepStrictEqual(c.t.ofType("pong").map((f) => f.id), ["keep"]);
});

Deno.test("[hub] a failing handler answers `internal` and the connection survives", () => {
  const { hub, connect } = testHub();
  hub.use(() => {
    throw new Error("boom");
  });
  const c = connect();
  c.send({ type: "ping", id: "x" });
  deepStrictEqual(c.t.ofType("error")[0], {
    v: 1,
    type: "error",
    id: "x",
    data: { code: "internal", message: "Cannot handle ping: internal error", temporary: true },
  });
  equal(c.t.closed, undefined);
});

Deno.test("[hub] closeAll sends disconnect frames and closes with the code", () => {
  const { hub, connect } = testHub();
  const cs = [connect(), connect(anonymous("anon:2"))];
  hub.closeAll(4000, "server restarting");
  for (const c of cs) {
    deepStrictEqual(c.t.closed, { code: 4000, reason: "server restarting" });
    deepStrictEqual(c.t.frames.at(-1)?.data, {
      code: 4000,
      reason: "server restarting",
      reconnect: true,
    });
  }
  equal(hub.stats().connections, 0);
});

Deno.test("[hub] metrics render in Prometheus text format", () => {
  const { hub, connect } = testHub();
  const c = connect();
  c.send({ type: "subscribe", channel: "prices:A" });
  hub.deliver("prices:A", 1);
  const text = hub.metrics.registry.render();
  ok(text.includes("# TYPE realtime_connections gauge\nrealtime_connections 1\n"));
  ok(text.includes('realtime_messages_total{direction="in",type="subscribe"} 1\n'));
  ok(text.includes('realtime_messages_total{direction="out",type="message"} 1\n'));
  ok(text.includes("realtime_broadcast_duration_seconds_count 1\n"));
  ok(/realtime_broadcast_duration_seconds_bucket\{le="\+Inf"\} 1\n/.test(text));
});
