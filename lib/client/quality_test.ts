import { deepStrictEqual, equal } from "node:assert/strict";
import { fakeClient } from "./_fakes.ts";

Deno.test("[quality] RTT from the client's own ping/pong, every pingIntervalMs", () => {
  const { client, last, establish, timers } = fakeClient({ pingIntervalMs: 5_000 });
  deepStrictEqual(client.quality(), {
    rttMs: null,
    reconnects: 0,
    connectedSince: null,
    lastMessageAt: null,
  });
  client.connect();
  timers.advance(10);
  establish();
  const [first] = last().ofType("ping");
  deepStrictEqual(first, { v: 1, type: "ping", id: "p1" }, "the first ping goes at once");
  timers.advance(42);
  last().message({ v: 1, type: "pong", id: "p0" }); // not ours
  equal(client.quality().rttMs, null);
  last().message({ v: 1, type: "pong", id: "p1" });
  equal(client.quality().rttMs, 42);
  last().message({ v: 1, type: "pong", id: "p1" }); // late duplicate changes nothing
  timers.advance(100);
  equal(client.quality().rttMs, 42);
  timers.advance(5_000 - 142);
  deepStrictEqual(last().ofType("ping").map((p) => p.id), ["p1", "p2"]);
  timers.advance(7);
  last().message({ v: 1, type: "pong", id: "p2" });
  equal(client.quality().rttMs, 7);
  equal(client.quality().connectedSince, 10);
  equal(client.quality().lastMessageAt, 5_017);
});

Deno.test("[quality] reconnects count, connectedSince and rtt reset while down", () => {
  const { client, sockets, last, establish, timers } = fakeClient();
  client.connect();
  establish();
  last().message({ v: 1, type: "pong", id: "p1" });
  equal(client.quality().rttMs, 0);
  sockets[0].serverClose(1006);
  equal(client.quality().rttMs, null);
  equal(client.quality().connectedSince, null);
  timers.advance(1_000);
  sockets[1].serverClose(1006); // a failed attempt is no reconnect
  timers.advance(1_000);
  establish();
  deepStrictEqual(client.quality(), {
    rttMs: null,
    reconnects: 1,
    connectedSince: timers.now(),
    lastMessageAt: timers.now(),
  });
  client.disconnect();
  client.connect();
  establish();
  equal(client.quality().reconnects, 2);
});

Deno.test("[quality] pingIntervalMs 0 sends no ping; pings stop when disconnected", () => {
  const off = fakeClient({ pingIntervalMs: 0 });
  off.client.connect();
  off.establish();
  off.timers.advance(60_000);
  equal(off.last().ofType("ping").length, 0);
  const on = fakeClient({ pingIntervalMs: 1_000 });
  on.client.connect();
  on.establish();
  on.client.disconnect();
  equal(on.timers.pending, 0);
});
