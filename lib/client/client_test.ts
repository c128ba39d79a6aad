import { deepStrictEqual, equal } from "node:assert/strict";
import { fakeClient, FakeSocket, ManualTimers } from "./_fakes.ts";
import { RealtimeClient } from "./client.ts";
import type { StateChange } from "./types.ts";

function setup(random = () => 0.5) {
  const sockets: FakeSocket[] = [];
  const timers = new ManualTimers();
  const client = new RealtimeClient({
    url: "ws://test/api/ws",
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    timers,
    random,
    minReconnectDelayMs: 100,
    maxReconnectDelayMs: 1_000,
  });
  const changes: StateChange[] = [];
  client.onStateChange((c) => changes.push(c));
  return { client, sockets, timers, changes };
}

Deno.test("[client] connect → connected, idempotent, one socket", () => {
  const { client, sockets, changes } = setup();
  client.connect();
  client.connect();
  equal(sockets.length, 1);
  equal(client.state, "connecting");
  sockets[0].open();
  client.connect();
  equal(sockets.length, 1);
  deepStrictEqual(changes, [
    { oldState: "disconnected", newState: "connecting" },
    { oldState: "connecting", newState: "connected" },
  ]);
});

Deno.test("[client] a dropped connection reconnects with backoff and re-subscribes", () => {
  const { client, sockets, timers, changes } = setup();
  const got: unknown[] = [];
  client.subscribe<number>("prices:A", {
    onMessage: (d) => got.push(d),
    onSnapshot: (d) => got.push(`snap ${d}`),
  });
  client.connect();
  sockets[0].open();
  deepStrictEqual(sockets[0].sent, [{ v: 1, type: "subscribe", id: "s1", channel: "prices:A" }]);
  sockets[0].message({
    v: 1,
    type: "subscribed",
    id: "s1",
    channel: "prices:A",
    data: { snapshot: 1 },
  });
  sockets[0].message({ v: 1, type: "message", channel: "prices:A", ts: 1, data: 2 });
  sockets[0].message({ v: 1, type: "message", channel: "prices:B", ts: 1, data: 99 });
  sockets[0].serverClose(1006);
  equal(client.state, "reconnecting");
  equal(client.attempt, 1);
  equal(client.nextRetryAt, 50, "random 0.5 × base 100");
  timers.advance(49);
  equal(sockets.length, 1, "not before the delay");
  timers.advance(1);
  equal(sockets.length, 2);
  sockets[1].serverClose(1006);
  equal(client.nextRetryAt, 50 + 100, "second delay: 0.5 × 200");
  timers.advance(100);
  sockets[2].open();
  equal(client.state, "connected");
  equal(client.attempt, 0);
  deepStrictEqual(sockets[2].sent, [{ v: 1, type: "subscribe", id: "s2", channel: "prices:A" }]);
  deepStrictEqual(got, ["snap 1", 2]);
  deepStrictEqual(changes.map((c) => c.newState), [
    "connecting",
    "connected",
    "reconnecting",
    "connected",
  ]);
});

Deno.test("[client] a terminal close code stops reconnecting", () => {
  const { client, sockets, timers } = setup();
  client.connect();
  sockets[0].open();
  sockets[0].serverClose(4501, "forbidden");
  equal(client.state, "closed");
  equal(timers.pending, 0);
  timers.advance(60_000);
  equal(sockets.length, 1);
});

Deno.test("[client] disconnect cancels a pending reconnect and closes cleanly", () => {
  const { client, sockets, timers } = setup();
  client.connect();
  sockets[0].open();
  sockets[0].serverClose(1006);
  client.disconnect();
  client.disconnect();
  equal(client.state, "disconnected");
  equal(timers.pending, 0);
  client.connect();
  sockets[1].open();
  client.disconnect();
  deepStrictEqual(sockets[1].closedWith, { code: 1000, reason: "client disconnect" });
  equal(client.state, "disconnected");
});

Deno.test("[client] connect() while reconnecting retries at once (browser came online)", () => {
  const { client, sockets, timers } = setup(() => 0.99);
  client.connect();
  sockets[0].serverClose(1006);
  equal(sockets.length, 1);
  client.connect();
  equal(sockets.length, 2);
  equal(timers.pending, 0);
});

Deno.test("[client] a refused subscription reports its error and is dropped", () => {
  const { client, sockets } = setup();
  const errors: unknown[] = [];
  client.subscribe("nope:x", { onMessage: () => {}, onError: (e) => errors.push(e) });
  client.connect();
  sockets[0].open();
  sockets[0].message({
    v: 1,
    type: "error",
    id: "s1",
    data: { code: "unknown_channel", message: "Cannot subscribe", temporary: false },
  });
  deepStrictEqual(errors, [{
    code: "unknown_channel",
    message: "Cannot subscribe",
    temporary: false,
  }]);
  sockets[0].serverClose(1006);
});

Deno.test("[client] unsubscribing the last handler sends unsubscribe once", () => {
  const { client, sockets } = setup();
  client.connect();
  sockets[0].open();
  const a = client.subscribe("prices:A", { onMessage: () => {} });
  const b = client.subscribe("prices:A", { onMessage: () => {} });
  a.unsubscribe();
  a.unsubscribe();
  equal(sockets[0].sent.length, 1);
  b.unsubscribe();
  deepStrictEqual(sockets[0].sent.at(-1), { v: 1, type: "unsubscribe", channel: "prices:A" });
});

Deno.test("[client] answers server pings and treats a silent server as a dead link", () => {
  const { client, sockets, timers } = setup();
  client.connect();
  sockets[0].open();
  sockets[0].message({
    v: 1,
    type: "connected",
    data: { heartbeat: { intervalMs: 1_000, timeoutMs: 500 } },
  });
  sockets[0].message({ v: 1, type: "ping" });
  deepStrictEqual(sockets[0].sent.at(-1), { v: 1, type: "pong" });
  timers.advance(1_400);
  sockets[0].message({ v: 1, type: "ping" });
  timers.advance(1_400);
  equal(client.state, "connected", "each server frame re-arms the deadline");
  timers.advance(100);
  equal(client.state, "reconnecting");
  deepStrictEqual(sockets[0].closedWith, { code: 4002, reason: "no ping from server" });
  timers.advance(1_000);
  equal(sockets.length, 2, "reconnected after the backoff");
});

Deno.test("[client] re-subscribes with its last position and drops duplicate offsets", () => {
  const { client, sockets, timers } = setup();
  const got: unknown[] = [];
  let resets = 0;
  const confirmations: (boolean | undefined)[] = [];
  client.subscribe<string>("room:r", {
    onMessage: (d) => got.push(d),
    onReset: () => resets++,
    onSubscribed: ({ recovered }) => confirmations.push(recovered),
  });
  client.connect();
  sockets[0].open();
  sockets[0].message({
    v: 1,
    type: "subscribed",
    id: "s1",
    channel: "room:r",
    data: { epoch: "e", offset: 4 },
  });
  sockets[0].message({
    v: 1,
    type: "message",
    channel: "room:r",
    ts: 1,
    data: "m5",
    offset: 5,
    epoch: "e",
  });
  sockets[0].serverClose(1006);
  timers.advance(1_000);
  sockets[1].open();
  deepStrictEqual(sockets[1].sent[0], {
    v: 1,
    type: "subscribe",
    id: "s2",
    channel: "room:r",
    since: { epoch: "e", offset: 5 },
  });
  sockets[1].message({
    v: 1,
    type: "subscribed",
    id: "s2",
    channel: "room:r",
    data: { epoch: "e", offset: 7, recovered: true },
  });
  for (const o of [6, 7, 7, 8]) {
    sockets[1].message({
      v: 1,
      type: "message",
      channel: "room:r",
      ts: 1,
      data: `m${o}`,
      offset: o,
      epoch: "e",
    });
  }
  deepStrictEqual(got, ["m5", "m6", "m7", "m8"], "7 once");
  equal(resets, 0);
  sockets[1].serverClose(1006);
  timers.advance(2_000);
  sockets[2].open();
  deepStrictEqual((sockets[2].sent[0] as { since: unknown }).since, { epoch: "e", offset: 8 });
  sockets[2].message({
    v: 1,
    type: "subscribed",
    id: "s3",
    channel: "room:r",
    data: { epoch: "f", offset: 2, recovered: false },
  });
  equal(resets, 1, "not recovered → reset");
  sockets[2].message({
    v: 1,
    type: "message",
    channel: "room:r",
    ts: 1,
    data: "f3",
    offset: 3,
    epoch: "f",
  });
  deepStrictEqual(got.at(-1), "f3", "the new epoch's messages flow");
  deepStrictEqual(confirmations, [undefined, true, false]);
});

Deno.test("[client] unsubscribing while down sends nothing and is not re-subscribed", () => {
  const { client, sockets, timers } = setup();
  const sub = client.subscribe("prices:A", { onMessage: () => {} });
  client.subscribe("prices:B", { onMessage: () => {} });
  client.connect();
  sockets[0].open();
  sockets[0].serverClose(1006);
  sub.unsubscribe();
  timers.advance(1_000);
  sockets[1].open();
  deepStrictEqual(sockets[1].sent.map((m) => m.channel), ["prices:B"]);
  equal(sockets[1].sent.some((m) => m.type === "unsubscribe"), false);
});

Deno.test("[client] a late error for an old subscribe does not drop the new one", () => {
  const { client, last, establish } = fakeClient();
  client.connect();
  establish();
  const got: unknown[] = [];
  const errors: unknown[] = [];
  client.subscribe("room:r", { onMessage: () => {} }).unsubscribe(); // s1
  client.subscribe("room:r", { onMessage: (d) => got.push(d), onError: (e) => errors.push(e) }); // s2
  last().message({
    v: 1,
    type: "error",
    id: "s1",
    data: { code: "internal", message: "Cannot subscribe", temporary: true },
  });
  last().message({ v: 1, type: "message", channel: "room:r", ts: 1, data: "still here" });
  deepStrictEqual(got, ["still here"]);
  deepStrictEqual(errors, []);
});

Deno.test("[client] a refused subscription's handle cannot unsubscribe its successor", () => {
  const { client, last, establish } = fakeClient();
  client.connect();
  establish();
  const refused = client.subscribe("room:r", { onMessage: () => {} });
  last().message({
    v: 1,
    type: "error",
    id: "s1",
    data: { code: "forbidden", message: "Cannot subscribe", temporary: false },
  });
  const got: unknown[] = [];
  client.subscribe("room:r", { onMessage: (d) => got.push(d) });
  refused.unsubscribe();
  equal(last().sent.some((m) => m.type === "unsubscribe"), false);
  last().message({ v: 1, type: "message", channel: "room:r", ts: 1, data: 1 });
  deepStrictEqual(got, [1]);
});

Deno.test("[client] connect() during an attempt under way opens no second socket", () => {
  const { client, sockets, timers } = setup();
  client.connect();
  sockets[0].serverClose(1006);
  timers.advance(1_000);
  equal(sockets.length, 2, "the retry is connecting");
  client.connect();
  equal(sockets.length, 2);
  sockets[1].open();
  equal(client.state, "connected");
});

Deno.test("[client] frames of a socket already replaced are ignored", () => {
  const { client, sockets } = setup();
  const got: unknown[] = [];
  client.subscribe("prices:A", { onMessage: (d) => got.push(d) });
  client.connect();
  sockets[0].open();
  client.disconnect();
  sockets[0].message({ v: 1, type: "message", channel: "prices:A", ts: 1, data: "late" });
  sockets[0].serverClose(1006);
  deepStrictEqual(got, []);
  equal(client.state, "disconnected");
  equal(sockets.length, 1, "no reconnect");
});

Deno.test("[client] disconnect() before the socket opened closes it and stays down", () => {
  const { client, sockets, timers } = setup();
  client.connect();
  client.disconnect();
  deepStrictEqual(sockets[0].closedWith, { code: 1000, reason: "client disconnect" });
  sockets[0].open(); // a late open of the abandoned socket
  equal(client.state, "disconnected");
  timers.advance(60_000);
  equal(sockets.length, 1);
});

Deno.test("[client] a subscription object reports its own state and position", () => {
  const { client, sockets, timers } = setup();
  const sub = client.subscribe<string>("room:s", { onMessage: () => {} });
  equal(sub.state, "subscribing");
  client.connect();
  sockets[0].open();
  sockets[0].message({
    v: 1,
    type: "connected",
    data: { heartbeat: { intervalMs: 60_000, timeoutMs: 5_000 }, user: { expiresAt: null } },
  });
  const subscribeId = (sockets[0].sent.find((f) => f.type === "subscribe") as { id: string }).id;
  sockets[0].message({
    v: 1,
    type: "subscribed",
    id: subscribeId,
    channel: "room:s",
    data: { epoch: "e", offset: 3 },
  });
  equal(sub.state, "subscribed");
  deepStrictEqual(sub.position, { epoch: "e", offset: 3 });
  sockets[0].serverClose(1006);
  equal(sub.state, "subscribing", "waiting to re-subscribe after a drop");
  timers.advance(1_000);
  const refused = client.subscribe<string>("nope:x", { onMessage: () => {} });
  sub.unsubscribe();
  equal(sub.state, "unsubscribed");
  equal(sockets.length, 2, "reconnected");
  sockets[1].open();
  sockets[1].message({
    v: 1,
    type: "connected",
    data: { heartbeat: { intervalMs: 60_000, timeoutMs: 5_000 }, user: { expiresAt: null } },
  });
  const sent = sockets[1].sent.find((f) => f.type === "subscribe" && f.channel === "nope:x") as {
    id: string;
  };
  sockets[1].message({
    v: 1,
    type: "error",
    id: sent.id,
    data: { code: "unknown_channel", message: "no", temporary: false },
  });
  equal(refused.state, "refused");
});

Deno.test("[client] a temporary subscribe refusal is retried with backoff; a permanent one drops", () => {
  const { client, sockets, timers } = setup(() => 0.5);
  const errors: unknown[] = [];
  const sub = client.subscribe<string>("room:t", {
    onMessage: () => {},
    onError: (e) => errors.push(e),
  });
  client.connect();
  sockets[0].open();
  sockets[0].message({
    v: 1,
    type: "connected",
    data: { heartbeat: { intervalMs: 60_000, timeoutMs: 5_000 }, user: { expiresAt: null } },
  });
  const subscribes = () =>
    sockets[0].sent.filter((f) => f.type === "subscribe" && f.channel === "room:t") as {
      id: string;
    }[];
  equal(subscribes().length, 1);
  sockets[0].message({
    v: 1,
    type: "error",
    id: subscribes()[0].id,
    data: {
      code: "internal",
      message: "Cannot subscribe to room:t: history unavailable, retry",
      temporary: true,
    },
  });
  equal(sub.state, "subscribing", "kept");
  deepStrictEqual(errors, []);
  timers.advance(999);
  equal(subscribes().length, 1, "not before the backoff (0.5 × 2 s)");
  timers.advance(1);
  equal(subscribes().length, 2, "retried");
  sockets[0].message({
    v: 1,
    type: "error",
    id: subscribes()[1].id,
    data: { code: "forbidden", message: "no", temporary: false },
  });
  equal(sub.state, "refused");
  equal(errors.length, 1);
  timers.advance(60_000);
  equal(subscribes().length, 2, "no retry after a permanent refusal");
});
