import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { decode } from "@msgpack/msgpack";
import fc from "fast-check";
import { quoteSequence } from "../../tests/fixtures/quote_sequence.ts";
import type { Connection } from "../gateway/connection.ts";
import { fakeTransport } from "../gateway/_fake_transport.ts";
import { anonymous, TEST_NAMESPACES } from "../gateway/_test_util.ts";
import { Hub } from "../gateway/hub.ts";
import type { Transport } from "../gateway/transport.ts";
import { CODECS } from "../protocol/codec.ts";
import { fakeClient, ManualTimers } from "./_fakes.ts";
import { RealtimeClient } from "./client.ts";
import type { CodecName, WebSocketLike } from "./types.ts";
import { loadMsgpack } from "./wire.ts";

const CH = "prices:A";

/** The client's side of a fake link; the other side is a real hub's connection. */
class LinkedSocket implements WebSocketLike {
  readyState = 0;
  binaryType: "blob" | "arraybuffer" = "blob";
  onopen: ((ev: Event) => unknown) | null = null;
  onmessage: ((ev: MessageEvent) => unknown) | null = null;
  onclose: ((ev: CloseEvent) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;
  readonly protocol: string;
  readonly transport: Transport & { bufferedAmount: number };
  /** Subscribe frames the client sent. */
  readonly subscribes: unknown[] = [];
  conn: Connection | null = null;
  #queue: (string | Uint8Array)[] = [];

  constructor(readonly hub: Hub, readonly codec: CodecName) {
    this.protocol = `realtime.v1.${codec}`;
    this.transport = {
      bufferedAmount: 0,
      send: (frame) => {
        if (this.readyState !== 1) return;
        if (this.onopen === null || this.#queue.length > 0) this.#queue.push(frame);
        else this.#deliver(frame);
      },
      close: () => this.#closed(1000),
    };
  }

  /** The server accepts the connection: `connected`, then the client's `open`. */
  open(): void {
    this.readyState = 1;
    this.#queue = [];
    this.conn = this.hub.open(this.transport, {
      principal: anonymous(),
      codec: CODECS[this.codec],
      ip: "10.0.0.1",
    });
    const queued = this.#queue;
    this.onopen?.(new Event("open"));
    this.#queue = [];
    for (const f of queued) this.#deliver(f);
  }

  send(data: string | Uint8Array): void {
    if (this.readyState !== 1 || !this.conn) throw new Error("Cannot send: not open");
    const decoded = typeof data === "string" ? JSON.parse(data) : decode(data);
    if (decoded?.type === "subscribe") this.subscribes.push(decoded);
    this.hub.receive(this.conn, data);
  }

  close(): void {
    this.#closed(1000);
  }

  /** The link drops (no close frame). */
  drop(): void {
    this.#closed(1006);
  }

  #closed(code: number): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    if (this.conn) this.hub.closed(this.conn, code);
    this.onclose?.(new CloseEvent("close", { code }));
  }

  #deliver(frame: string | Uint8Array): void {
    const data = typeof frame === "string"
      ? frame
      : frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength);
    this.onmessage?.(new MessageEvent("message", { data }));
  }
}

/** A real hub and a real client joined by {@linkcode LinkedSocket}s. */
function linked(codec: CodecName) {
  const hub = new Hub({ serverId: "iso", namespaces: TEST_NAMESPACES, now: () => 1 });
  // Another subscriber keeps the channel (and its last value) alive across reconnects.
  const bystander = hub.open(fakeTransport(), {
    principal: anonymous(),
    codec: CODECS.json,
    ip: "10.0.0.2",
  });
  hub.receive(bystander, JSON.stringify({ type: "subscribe", channel: CH, delta: true }));
  const sockets: LinkedSocket[] = [];
  const timers = new ManualTimers();
  const client = new RealtimeClient({
    url: "ws://test/api/ws",
    codec,
    timers,
    random: () => 0.5,
    minReconnectDelayMs: 10,
    maxReconnectDelayMs: 10,
    pingIntervalMs: 0,
    createSocket: () => {
      const s = new LinkedSocket(hub, codec);
      sockets.push(s);
      return s;
    },
  });
  return { hub, client, sockets, timers, last: () => sockets[sockets.length - 1] };
}

type Action = "publish" | "behind" | "drain" | "reconnect" | "resubscribe";

for (const codec of ["json", "msgpack"] as const) {
  Deno.test(`[client/delta] ${codec}: over random sequences the client holds the server's values`, async () => {
    if (codec === "msgpack") await loadMsgpack();
    const quotes = quoteSequence(60, { symbol: "A", seed: 11 });
    const byTs = new Map(quotes.map((q) => [q.ts, q]));
    const seen = { patches: 0, reconnects: 0 };
    const action = fc.oneof(
      { weight: 8, arbitrary: fc.constant<Action>("publish") },
      { weight: 1, arbitrary: fc.constant<Action>("behind") },
      { weight: 2, arbitrary: fc.constant<Action>("drain") },
      { weight: 1, arbitrary: fc.constant<Action>("reconnect") },
      { weight: 1, arbitrary: fc.constant<Action>("resubscribe") },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 20, maxLength: 80 }), async (actions) => {
        const { hub, client, timers, last, sockets } = linked(codec);
        const got: unknown[] = [];
        const sub = client.subscribe(CH, { onMessage: (q) => got.push(q) }, { delta: true });
        client.connect();
        if (codec === "msgpack") await new Promise((r) => setTimeout(r, 0));
        last().open();
        equal(sub.delta, true, "the server confirmed delta");
        let next = 0;
        const publish = () => hub.deliver(CH, quotes[next++ % quotes.length]);
        for (const a of actions) {
          if (a === "publish") publish();
          else if (a === "behind") last().transport.bufferedAmount = 10_000_000;
          else if (a === "drain") {
            last().transport.bufferedAmount = 0;
            hub.flush();
          } else if (a === "reconnect") {
            last().drop();
            timers.advance(20);
            last().open();
          } else {
            // Another subscription of the same channel elsewhere in the app: no change.
            client.subscribe(CH, { onMessage: () => {} }, { delta: true }).unsubscribe();
          }
          // Every value delivered is exactly one the server published.
          for (const q of got) deepStrictEqual(q, byTs.get((q as { ts: number }).ts));
        }
        last().transport.bufferedAmount = 0;
        hub.flush();
        publish();
        deepStrictEqual(got.at(-1), quotes[(next - 1) % quotes.length], "ends on the last value");
        // The safety net (a patch without its base → subscribe again) never had to act.
        deepStrictEqual(sockets.map((s) => s.subscribes.length), sockets.map(() => 1));
        seen.patches += hub.metrics.deltaMessages.value();
        seen.reconnects += client.quality().reconnects;
        client.disconnect();
      }),
      { numRuns: 60 },
    );
    ok(seen.patches > 300, `patches were sent (${seen.patches})`);
    ok(seen.reconnects > 10, `reconnects happened (${seen.reconnects})`);
  });
}

Deno.test("[client/delta] the handlers' copies are theirs: changing one corrupts nothing", () => {
  const { hub, client, last } = linked("json");
  const quotes = quoteSequence(5, { symbol: "A" });
  const got: Record<string, unknown>[] = [];
  client.subscribe<Record<string, unknown>>(CH, {
    onMessage(q) {
      got.push(structuredClone(q));
      q.price = -1; // an app that edits what it was given
      delete q.venues;
    },
  }, { delta: true });
  client.connect();
  last().open();
  for (const q of quotes) hub.deliver(CH, q);
  deepStrictEqual(got, quotes);
  equal(hub.metrics.deltaMessages.value(), 8, "4 patches each to the client and the bystander");
  client.disconnect();
});

Deno.test("[client/delta] subscribe asks for delta when told to (option or client default)", () => {
  const off = fakeClient();
  off.client.subscribe(CH, { onMessage: () => {} });
  off.client.subscribe("room:r", { onMessage: () => {} }, { delta: true });
  off.client.connect();
  off.last().open();
  deepStrictEqual(off.last().ofType("subscribe").map((m) => [m.channel, m.delta]), [
    [CH, undefined],
    ["room:r", true],
  ]);
  const on = fakeClient({ delta: true });
  const sub = on.client.subscribe(CH, { onMessage: () => {} });
  on.client.subscribe("room:r", { onMessage: () => {} }, { delta: false });
  on.client.connect();
  on.last().open();
  deepStrictEqual(on.last().ofType("subscribe").map((m) => [m.channel, m.delta]), [
    [CH, true],
    ["room:r", undefined],
  ]);
  equal(sub.delta, false, "not until the server confirms it");
  on.last().message({ v: 1, type: "subscribed", id: "s1", channel: CH, data: { delta: true } });
  equal(sub.delta, true);
});

Deno.test("[client/delta] a patch without its base is dropped and a full value asked for, once", () => {
  const { client, last, establish } = fakeClient();
  const got: unknown[] = [];
  const sub = client.subscribe(CH, { onMessage: (d) => got.push(d) }, { delta: true });
  client.connect();
  establish();
  const delta = (data: unknown) =>
    last().message({ v: 1, type: "message", channel: CH, ts: 1, data, delta: true });
  const full = (data: unknown) =>
    last().message({ v: 1, type: "message", channel: CH, ts: 1, data });
  last().message({ v: 1, type: "subscribed", id: "s1", channel: CH, data: { delta: true } });
  delta({ price: 2 }); // no full value came first (a server bug): never delivered
  delta({ price: 3 });
  deepStrictEqual(got, []);
  deepStrictEqual(
    last().ofType("subscribe").map((m) => [m.id, m.delta]),
    [["s1", true], ["s2", true]],
    "one new subscribe asks for a full value",
  );
  last().message({ v: 1, type: "subscribed", id: "s2", channel: CH, data: { delta: true } });
  full({ price: 4, size: 1 });
  delta({ price: 5 });
  deepStrictEqual(got, [{ price: 4, size: 1 }, { price: 5, size: 1 }]);
  // A patch that cannot apply (too deep, not an object) is treated the same way.
  delta(7);
  equal(last().ofType("subscribe").length, 3);
  deepStrictEqual(got.length, 2);
  equal(sub.state, "subscribed");
});

Deno.test("[client/delta] after a reconnect: recovered replay full, duplicates dropped, patches resume", () => {
  const { client, last, establish, timers } = fakeClient();
  const got: unknown[] = [];
  client.subscribe(CH, { onMessage: (d) => got.push(d) }, { delta: true });
  client.connect();
  establish();
  const msg = (offset: number, data: unknown, delta = false) =>
    last().message({
      v: 1,
      type: "message",
      channel: CH,
      ts: offset,
      offset,
      epoch: "e",
      data,
      ...(delta ? { delta: true } : {}),
    });
  last().message({
    v: 1,
    type: "subscribed",
    id: "s1",
    channel: CH,
    data: { epoch: "e", offset: 0, delta: true },
  });
  msg(1, { p: 1, q: 1 });
  msg(2, { p: 2 }, true);
  last().serverClose(1006);
  timers.advance(2_000);
  establish();
  deepStrictEqual(last().ofType("subscribe")[0], {
    v: 1,
    type: "subscribe",
    id: "s2",
    channel: CH,
    since: { epoch: "e", offset: 2 },
    delta: true,
  });
  last().message({
    v: 1,
    type: "subscribed",
    id: "s2",
    channel: CH,
    data: { epoch: "e", offset: 3, recovered: true, delta: true },
  });
  msg(2, { p: 2, q: 1 }); // overlaps what we had: not delivered again, but the base
  msg(3, { p: 3, q: 1 });
  msg(4, { q: 2 }, true);
  deepStrictEqual(got, [{ p: 1, q: 1 }, { p: 2, q: 1 }, { p: 3, q: 1 }, { p: 3, q: 2 }]);
  client.disconnect();
});

Deno.test("[client/delta] a server that refuses the delta field: subscribed again without it", () => {
  const { client, last, establish, timers } = fakeClient();
  const errors: unknown[] = [];
  const sub = client.subscribe(CH, { onMessage: () => {}, onError: (e) => errors.push(e) }, {
    delta: true,
  });
  client.connect();
  establish();
  last().message({
    v: 1,
    type: "error",
    id: "s1",
    data: {
      code: "bad_message",
      message: 'Cannot decode subscribe: message Unrecognized key: "delta"',
      temporary: false,
    },
  });
  timers.advance(30_000);
  deepStrictEqual(last().ofType("subscribe").map((m) => [m.id, m.delta]), [
    ["s1", true],
    ["s2", undefined],
  ]);
  last().message({ v: 1, type: "subscribed", id: "s2", channel: CH, data: {} });
  equal(sub.state, "subscribed");
  equal(sub.delta, false);
  deepStrictEqual(errors, []);
});
