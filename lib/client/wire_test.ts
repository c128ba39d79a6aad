import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { fakeClient, FakeSocket, ManualTimers, settle } from "./_fakes.ts";
import { RealtimeClient } from "./client.ts";
import {
  decodeFrame,
  decodeFrames,
  defaultCreateSocket,
  frameTooLarge,
  loadMsgpack,
} from "./wire.ts";
import { encode as msgpackEncode } from "@msgpack/msgpack";

Deno.test("[wire] msgpack: binary frames both ways, offered as realtime.v1.msgpack(.batch)", async () => {
  const { client, sockets, last } = fakeClient({ codec: "msgpack" });
  const got: unknown[] = [];
  client.subscribe<{ price: number }>("prices:A", {
    onMessage: (d) => got.push(d),
    onSnapshot: (d) => got.push({ snapshot: d }),
  });
  client.connect();
  await settle(); // MessagePack is loaded on first use
  equal(sockets.length, 1);
  deepStrictEqual(last().protocols, ["realtime.v1.msgpack.batch", "realtime.v1.msgpack"]);
  equal(last().binaryType, "arraybuffer");
  last().open();
  ok(last().frames[0] instanceof Uint8Array, "the subscribe went out as MessagePack");
  deepStrictEqual(last().sent[0], { v: 1, type: "subscribe", id: "s1", channel: "prices:A" });
  last().binaryMessage({
    v: 1,
    type: "connected",
    data: { user: { expiresAt: null }, heartbeat: { intervalMs: 1e6, timeoutMs: 1 } },
  });
  last().binaryMessage({
    v: 1,
    type: "subscribed",
    id: "s1",
    channel: "prices:A",
    data: { epoch: "e", offset: 1, snapshot: { price: 1.5 } },
  });
  last().binaryMessage({
    v: 1,
    type: "message",
    channel: "prices:A",
    ts: 1,
    offset: 2,
    epoch: "e",
    data: { price: 2.25 },
  });
  deepStrictEqual(got, [{ snapshot: { price: 1.5 } }, { price: 2.25 }]);
  const done = client.publish("presence:r", { bytes: [1, 2, 3] });
  const frame = last().frames.at(-1);
  ok(frame instanceof Uint8Array);
  const publish = last().ofType("publish")[0];
  deepStrictEqual(publish.data, { bytes: [1, 2, 3] });
  last().binaryMessage({
    v: 1,
    type: "ack",
    id: publish.id,
    channel: "presence:r",
    data: { ts: 1, offset: 4, epoch: "e" },
  });
  deepStrictEqual(await done, { offset: 4, epoch: "e" });
  ok(last().frames.every((f) => typeof f !== "string"), "no text frame on a msgpack link");
});

Deno.test("[wire] msgpack asked, but the server echoed no subprotocol: JSON", async () => {
  await loadMsgpack();
  const sockets: FakeSocket[] = [];
  const client = new RealtimeClient({
    url: "ws://test",
    codec: "msgpack",
    timers: new ManualTimers(),
    createSocket: (url) => {
      sockets.push(new FakeSocket(url)); // offers nothing: the server picks JSON
      return sockets[0];
    },
  });
  client.subscribe("prices:A", { onMessage: () => {} });
  client.connect();
  sockets[0].open();
  equal(typeof sockets[0].frames[0], "string");
  client.disconnect();
});

Deno.test("[wire] the default socket offers the codec and a bearer.<token> entry", async () => {
  const made: FakeSocket[] = [];
  class StubWebSocket extends FakeSocket {
    constructor(url: string, protocols?: string[]) {
      super(url, protocols);
      made.push(this);
    }
  }
  const original = globalThis.WebSocket;
  globalThis.WebSocket = StubWebSocket as unknown as typeof WebSocket;
  try {
    defaultCreateSocket("ws://x", undefined, ["realtime.v1.json"]);
    defaultCreateSocket("ws://x", "abc", ["realtime.v1.json"]);
    const client = new RealtimeClient({
      url: "ws://y",
      codec: "msgpack",
      getToken: () => Promise.resolve("tok"),
      timers: new ManualTimers(),
    });
    client.connect();
    await settle();
    client.disconnect();
    const plain = new RealtimeClient({ url: "ws://z", batch: false, timers: new ManualTimers() });
    plain.connect();
    await settle();
    plain.disconnect();
  } finally {
    globalThis.WebSocket = original;
  }
  deepStrictEqual(made.map((s) => [s.url, s.protocols]), [
    ["ws://x", ["realtime.v1.json"]],
    ["ws://x", ["realtime.v1.json", "bearer.abc"]],
    ["ws://y", ["realtime.v1.msgpack.batch", "realtime.v1.msgpack", "bearer.tok"]],
    ["ws://z", ["realtime.v1.json"]],
  ]);
  equal(made[2].binaryType, "arraybuffer");
});

Deno.test("[wire] undecodable frames are ignored, never thrown", async () => {
  await loadMsgpack();
  for (
    const bad of ["{nope", "[1]", "null", '{"type":5}', 42, new Blob(["x"]), new Uint8Array([0xc1])]
  ) {
    equal(decodeFrame(bad), null, String(bad));
  }
  deepStrictEqual(decodeFrame('{"type":"ping"}'), { type: "ping" });
  const { client, last } = fakeClient();
  client.connect();
  last().open();
  last().onmessage?.(new MessageEvent("message", { data: "{nope" }));
  equal(client.state, "connected");
});

Deno.test("[wire] frameTooLarge counts UTF-8 bytes", () => {
  equal(frameTooLarge("a".repeat(100), 100), false);
  equal(frameTooLarge("a".repeat(101), 100), true);
  equal(frameTooLarge("é".repeat(50), 100), false, "2 bytes each");
  equal(frameTooLarge("é".repeat(51), 100), true);
  equal(frameTooLarge(new Uint8Array(101), 100), true);
});

Deno.test("[wire] a batched frame is every message in it, in order; bad ones are skipped", async () => {
  await loadMsgpack();
  deepStrictEqual(decodeFrames('{"type":"ping"}\n{nope\n[1]\n{"type":"pong","id":"a\\nb"}'), [
    { type: "ping" },
    { type: "pong", id: "a\nb" }, // an escaped line feed inside a string is not a separator
  ]);
  deepStrictEqual(decodeFrames("{nope"), []);
  const a = msgpackEncode({ type: "ping" });
  const b = msgpackEncode({ type: "pong", id: "x" });
  const both = new Uint8Array([...a, ...b]);
  deepStrictEqual(decodeFrames(both.buffer), [{ type: "ping" }, { type: "pong", id: "x" }]);
  // A fault keeps what decoded before it.
  deepStrictEqual(decodeFrames(new Uint8Array([...a, 0xc1, ...b])), [{ type: "ping" }]);
  deepStrictEqual(decodeFrames(42), []);
});

Deno.test("[wire] the client handles each message of a batched frame, in order", () => {
  const { client, last } = fakeClient();
  const got: unknown[] = [];
  client.subscribe<{ n: number }>("prices:A", { onMessage: (d) => got.push(d.n) });
  client.connect();
  last().open();
  const frame = [
    {
      v: 1,
      type: "connected",
      data: { user: { expiresAt: null }, heartbeat: { intervalMs: 1e6, timeoutMs: 1 } },
    },
    { v: 1, type: "subscribed", id: "s1", channel: "prices:A", data: { epoch: "e", offset: 1 } },
    { v: 1, type: "message", channel: "prices:A", ts: 1, offset: 2, epoch: "e", data: { n: 1 } },
    { v: 1, type: "message", channel: "prices:A", ts: 2, offset: 3, epoch: "e", data: { n: 2 } },
    { v: 1, type: "ping" },
  ].map((m) => JSON.stringify(m)).join("\n");
  last().onmessage?.(new MessageEvent("message", { data: frame }));
  deepStrictEqual(got, [1, 2]);
  equal(client.state, "connected");
  deepStrictEqual(last().sent.at(-1), { v: 1, type: "pong" }, "the ping in the batch was answered");
  client.disconnect();
});
