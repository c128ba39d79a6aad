import { deepStrictEqual, equal, strictEqual } from "node:assert/strict";
import { fakeTransport } from "./_fake_transport.ts";
import { type ChannelResolution, Hub } from "./hub.ts";

function makeHub() {
  return new Hub({
    serverId: "iso1",
    now: () => 42,
    channels: (channel): ChannelResolution =>
      channel.startsWith("prices:")
        ? { ok: true, snapshot: () => ({ price: 1, channel }) }
        : { ok: false, message: `Cannot subscribe to ${channel}: unknown channel namespace` },
  });
}

Deno.test("[hub] greets a new connection with its session id", () => {
  const hub = makeHub();
  const t = fakeTransport();
  const conn = hub.open(t);
  deepStrictEqual(t.frames, [{
    v: 1,
    type: "connected",
    data: { session: conn.id, server: "iso1" },
  }]);
  equal(hub.stats().connections, 1);
});

Deno.test("[hub] subscribe replies with a snapshot; publish reaches subscribers only", () => {
  const hub = makeHub();
  const a = fakeTransport();
  const b = fakeTransport();
  const ca = hub.open(a);
  hub.open(b);
  hub.receive(ca, JSON.stringify({ type: "subscribe", id: "r1", channel: "prices:BTC-USD" }));
  deepStrictEqual(a.frames[1], {
    v: 1,
    type: "subscribed",
    id: "r1",
    channel: "prices:BTC-USD",
    data: { snapshot: { price: 1, channel: "prices:BTC-USD" } },
  });
  equal(hub.publish("prices:BTC-USD", { price: 2 }), 1);
  equal(hub.publish("prices:ETH-USD", { price: 3 }), 0);
  deepStrictEqual(a.frames[2], {
    v: 1,
    type: "message",
    channel: "prices:BTC-USD",
    ts: 42,
    data: { price: 2 },
  });
  equal(b.frames.length, 1, "b only got its greeting");
  deepStrictEqual(hub.stats(), {
    connections: 2,
    channels: 1,
    subscriptions: 1,
    messagesIn: 1,
    messagesOut: 4,
    errorsSent: 0,
  });
});

Deno.test("[hub] a broadcast is encoded once and the same frame goes to every subscriber", () => {
  const hub = makeHub();
  const transports = Array.from({ length: 5 }, () => fakeTransport());
  for (const t of transports) {
    hub.receive(hub.open(t), '{"type":"subscribe","channel":"prices:SOL-USD"}');
  }
  const original = JSON.stringify;
  let encodes = 0;
  JSON.stringify = ((...args: Parameters<typeof JSON.stringify>) => {
    encodes++;
    return original(...args);
  }) as typeof JSON.stringify;
  try {
    equal(hub.publish("prices:SOL-USD", { price: 9 }), 5);
  } finally {
    JSON.stringify = original;
  }
  equal(encodes, 1);
  const frames = transports.map((t) => t.raw.at(-1));
  for (const f of frames) strictEqual(f, frames[0]);
});

Deno.test("[hub] unknown channels get an error frame with the request id; nothing is subscribed", () => {
  const hub = makeHub();
  const t = fakeTransport();
  const conn = hub.open(t);
  hub.receive(conn, '{"type":"subscribe","id":"z","channel":"secret:things"}');
  deepStrictEqual(t.frames[1], {
    v: 1,
    type: "error",
    id: "z",
    data: {
      code: "unknown_channel",
      message: "Cannot subscribe to secret:things: unknown channel namespace",
      temporary: false,
    },
  });
  equal(hub.stats().subscriptions, 0);
});

Deno.test("[hub] bad frames get structured errors and the connection stays usable", () => {
  const hub = makeHub();
  const t = fakeTransport();
  const conn = hub.open(t);
  hub.receive(conn, "{oops");
  hub.receive(conn, new Uint8Array([1, 2, 3]));
  hub.receive(conn, '{"type":"teleport","id":"t1"}');
  hub.receive(conn, '{"type":"subscribe","channel":7}');
  deepStrictEqual(
    t.frames.slice(1).map((f) => (f.data as { code: string }).code),
    ["bad_frame", "bad_frame", "unknown_type", "bad_message"],
  );
  equal(t.closed, undefined);
  hub.receive(conn, '{"type":"ping","id":"p"}');
  deepStrictEqual(t.frames.at(-1), { v: 1, type: "pong", id: "p" });
  equal(hub.stats().errorsSent, 4);
});

Deno.test("[hub] unsubscribe and close remove subscriptions", () => {
  const hub = makeHub();
  const t = fakeTransport();
  const conn = hub.open(t);
  hub.receive(conn, '{"type":"subscribe","channel":"prices:A"}');
  hub.receive(conn, '{"type":"subscribe","channel":"prices:B"}');
  hub.receive(conn, '{"type":"unsubscribe","id":"u","channel":"prices:A"}');
  deepStrictEqual(t.frames.at(-1), { v: 1, type: "unsubscribed", id: "u", channel: "prices:A" });
  equal(hub.publish("prices:A", 1), 0);
  equal(hub.stats().subscriptions, 1);
  hub.close(conn);
  hub.close(conn);
  deepStrictEqual(hub.stats(), { ...hub.stats(), connections: 0, channels: 0, subscriptions: 0 });
  const before = t.frames.length;
  hub.receive(conn, '{"type":"ping"}');
  equal(t.frames.length, before, "a closed connection is ignored");
});

Deno.test("[hub] closeAll closes every transport with the given code", () => {
  const hub = makeHub();
  const ts = [fakeTransport(), fakeTransport()];
  for (const t of ts) hub.open(t);
  hub.closeAll(4000, "server restarting");
  for (const t of ts) deepStrictEqual(t.closed, { code: 4000, reason: "server restarting" });
  equal(hub.stats().connections, 0);
});
