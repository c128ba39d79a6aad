import { deepStrictEqual, equal, ok, strictEqual } from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { quoteSequence } from "../../tests/fixtures/quote_sequence.ts";
import type { Recovery } from "../bus/engine.ts";
import { jsonCodec, msgpackCodec } from "../protocol/codec.ts";
import { applyPatch } from "../protocol/delta.ts";
import type { FakeTransport } from "./_fake_transport.ts";
import { anonymous, testHub, user } from "./_test_util.ts";
import type { HistorySource } from "./hub.ts";

const CH = "prices:A";
const quotes = quoteSequence(40, { symbol: "A" });

/** The messages of `channel` a connection received: `full` or `delta`, and the value. */
function received(t: FakeTransport, channel = CH) {
  let value: unknown;
  return t.ofType("message").filter((m) => m.channel === channel).map((m) => {
    if (m.delta === true) {
      const r = applyPatch(value, m.data);
      if (!r.ok) throw new Error(`a patch without its base: ${r.error}`);
      value = r.value;
      return { kind: "delta", value };
    }
    value = m.data;
    return { kind: "full", value };
  });
}

const kinds = (t: FakeTransport) => received(t).map((r) => r.kind);
const values = (t: FakeTransport) => received(t).map((r) => r.value);

Deno.test("[hub/delta] first message full, then patches that rebuild every value; others get full", () => {
  const { hub, connect } = testHub();
  const d = connect();
  const plain = connect();
  d.send({ type: "subscribe", id: "s", channel: CH, delta: true });
  plain.send({ type: "subscribe", id: "s", channel: CH });
  deepStrictEqual(d.t.ofType("subscribed")[0].data, {
    snapshot: { symbol: "A", price: 1 },
    delta: true,
  });
  deepStrictEqual(plain.t.ofType("subscribed")[0].data, { snapshot: { symbol: "A", price: 1 } });
  for (const q of quotes.slice(0, 10)) equal(hub.deliver(CH, q), 2);
  deepStrictEqual(kinds(d.t), ["full", ...Array(9).fill("delta")]);
  deepStrictEqual(values(d.t), quotes.slice(0, 10));
  deepStrictEqual(kinds(plain.t), Array(10).fill("full"));
  deepStrictEqual(values(plain.t), quotes.slice(0, 10));
  // Patches are smaller, and every message keeps its envelope.
  const [fullFrame, deltaFrame] = [d.t.raw[2], d.t.raw[3]] as string[];
  ok(deltaFrame.length < fullFrame.length * 0.8, `${deltaFrame.length} vs ${fullFrame.length}`);
  const m = d.t.ofType("message")[1];
  deepStrictEqual(Object.keys(m).sort(), ["channel", "data", "delta", "ts", "type", "v"]);
  equal(hub.metrics.deltaMessages.value(), 9);
});

Deno.test("[hub/delta] one patch encoded once per codec, shared by every connection", () => {
  const { hub, connect } = testHub();
  const json = [connect(), connect(), connect()];
  const packed = [connect(anonymous(), msgpackCodec), connect(anonymous(), msgpackCodec)];
  for (const c of json) c.send({ type: "subscribe", channel: CH, delta: true });
  for (const c of packed) c.send(encode({ type: "subscribe", channel: CH, delta: true }));
  hub.deliver(CH, quotes[0]);
  let jsonEncodes = 0;
  const original = JSON.stringify;
  JSON.stringify = ((...args: Parameters<typeof JSON.stringify>) => {
    jsonEncodes++;
    return original(...args);
  }) as typeof JSON.stringify;
  try {
    equal(hub.deliver(CH, quotes[1]), 5);
  } finally {
    JSON.stringify = original;
  }
  equal(jsonEncodes, 2, "the full frame (to compare sizes) and the patch frame, once each");
  const jsonFrames = json.map((c) => c.t.raw.at(-1));
  for (const f of jsonFrames) strictEqual(f, jsonFrames[0]);
  const packedFrames = packed.map((c) => c.t.raw.at(-1));
  strictEqual(packedFrames[0], packedFrames[1], "one MessagePack patch buffer shared");
  for (const c of [...json, ...packed]) {
    deepStrictEqual(kinds(c.t), ["full", "delta"]);
    deepStrictEqual(values(c.t), quotes.slice(0, 2));
  }
  ok((packedFrames[0] as Uint8Array).byteLength < encode({ data: quotes[1] }).byteLength);
});

Deno.test("[hub/delta] MessagePack connections rebuild the same values", () => {
  const { hub, connect } = testHub();
  const c = connect(anonymous(), msgpackCodec);
  c.send(encode({ type: "subscribe", channel: CH, delta: true }));
  for (const q of quotes) hub.deliver(CH, q);
  deepStrictEqual(kinds(c.t), ["full", ...Array(quotes.length - 1).fill("delta")]);
  deepStrictEqual(values(c.t), quotes);
});

Deno.test("[hub/delta] a socket behind gets the newest value in full, then patches against it", () => {
  const { hub, connect } = testHub({ limits: { maxBufferedBytes: 1_000 } });
  const c = connect();
  c.send({ type: "subscribe", channel: CH, delta: true });
  hub.deliver(CH, quotes[0]);
  hub.deliver(CH, quotes[1]);
  c.t.bufferedAmount = 5_000; // behind: quotes 2–4 are conflated
  for (const q of quotes.slice(2, 5)) hub.deliver(CH, q);
  deepStrictEqual(kinds(c.t), ["full", "delta"], "nothing written while behind");
  c.t.bufferedAmount = 0;
  hub.flush();
  hub.deliver(CH, quotes[5]);
  deepStrictEqual(kinds(c.t), ["full", "delta", "full", "delta"]);
  deepStrictEqual(values(c.t), [quotes[0], quotes[1], quotes[4], quotes[5]]);
  equal(hub.metrics.conflations.value(), 2);
});

Deno.test("[hub/delta] drained before the flush: the held value is dropped, the next goes full", () => {
  const { hub, connect } = testHub({ limits: { maxBufferedBytes: 1_000 } });
  const c = connect();
  c.send({ type: "subscribe", channel: CH, delta: true });
  hub.deliver(CH, quotes[0]);
  c.t.bufferedAmount = 5_000;
  hub.deliver(CH, quotes[1]); // held
  c.t.bufferedAmount = 0;
  hub.deliver(CH, quotes[2]); // written at once; its base (quote 1) never reached the client
  hub.deliver(CH, quotes[3]);
  hub.flush();
  deepStrictEqual(kinds(c.t), ["full", "full", "delta"]);
  deepStrictEqual(values(c.t), [quotes[0], quotes[2], quotes[3]]);
});

Deno.test("[hub/delta] a late subscriber starts full while others continue with patches", () => {
  const { hub, connect } = testHub();
  const early = connect();
  early.send({ type: "subscribe", channel: CH, delta: true });
  hub.deliver(CH, quotes[0]);
  hub.deliver(CH, quotes[1]);
  const late = connect();
  late.send({ type: "subscribe", channel: CH, delta: true });
  hub.deliver(CH, quotes[2]);
  hub.deliver(CH, quotes[3]);
  deepStrictEqual(kinds(early.t), ["full", "delta", "delta", "delta"]);
  deepStrictEqual(kinds(late.t), ["full", "delta"]);
  deepStrictEqual(values(late.t), quotes.slice(2, 4));
});

Deno.test("[hub/delta] subscribing again starts over with a full message (how a client asks)", () => {
  const { hub, connect } = testHub();
  const c = connect();
  c.send({ type: "subscribe", id: "s1", channel: CH, delta: true });
  hub.deliver(CH, quotes[0]);
  hub.deliver(CH, quotes[1]);
  c.send({ type: "subscribe", id: "s2", channel: CH, delta: true });
  equal(c.t.ofType("subscribed").at(-1)?.data && true, true);
  deepStrictEqual((c.t.ofType("subscribed").at(-1)?.data as { delta?: boolean }).delta, true);
  hub.deliver(CH, quotes[2]);
  hub.deliver(CH, quotes[3]);
  deepStrictEqual(kinds(c.t), ["full", "delta", "full", "delta"]);
  // Subscribing again without delta turns it off.
  c.send({ type: "subscribe", id: "s3", channel: CH });
  hub.deliver(CH, quotes[4]);
  deepStrictEqual(kinds(c.t).at(-1), "full");
  equal(c.t.ofType("message").at(-1)?.delta, undefined);
});

Deno.test("[hub/delta] full when the patch is not smaller, when a value becomes null, on a new epoch", () => {
  const { hub, connect } = testHub();
  const c = connect();
  c.send({ type: "subscribe", channel: CH, delta: true });
  hub.deliver(CH, { v: 1 }, { offset: 1, epoch: "e1" });
  hub.deliver(CH, { v: 2 }, { offset: 2, epoch: "e1" }); // {"v":2} is all of it
  hub.deliver(CH, { v: 2, long: "x".repeat(100) }, { offset: 3, epoch: "e1" });
  hub.deliver(CH, { v: 3, long: "x".repeat(100) }, { offset: 4, epoch: "e1" }); // patch
  hub.deliver(CH, { v: null, long: "x".repeat(100) }, { offset: 5, epoch: "e1" }); // null
  hub.deliver(CH, { v: 4, long: "x".repeat(100) }, { offset: 6, epoch: "e1" }); // patch
  hub.deliver(CH, { v: 5, long: "x".repeat(100) }, { offset: 1, epoch: "e2" }); // new epoch
  hub.deliver(CH, { v: 6, long: "x".repeat(100) }, { offset: 2, epoch: "e2" }); // patch
  deepStrictEqual(kinds(c.t), ["full", "full", "full", "delta", "full", "delta", "full", "delta"]);
  deepStrictEqual(values(c.t).map((v) => (v as { v: unknown }).v), [1, 2, 2, 3, null, 4, 5, 6]);
  // Offsets and epochs stay on every message, patches included.
  deepStrictEqual(
    c.t.ofType("message").map((m) => `${m.epoch}/${m.offset}`),
    ["e1/1", "e1/2", "e1/3", "e1/4", "e1/5", "e1/6", "e2/1", "e2/2"],
  );
});

Deno.test("[hub/delta] ordered channels ignore delta: every message as published", () => {
  const { hub, connect } = testHub();
  const c = connect(user("u"));
  c.send({ type: "subscribe", id: "s", channel: "room:r", delta: true });
  deepStrictEqual(c.t.ofType("subscribed")[0].data, { presence: true });
  for (const q of quotes.slice(0, 3)) hub.deliver("room:r", q);
  deepStrictEqual(
    c.t.ofType("message").map((m) => [m.delta, m.data]),
    quotes.slice(0, 3).map((q) => [undefined, q]),
  );
  // `delta` must be a boolean.
  c.send({ type: "subscribe", id: "bad", channel: CH, delta: "yes" });
  equal((c.t.ofType("error").at(-1)?.data as { code: string }).code, "bad_message");
});

Deno.test("[hub/delta] recovery: replayed and held messages go full, patches resume after", async () => {
  let release: (r: Recovery) => void = () => {};
  const history: HistorySource = {
    position: () => Promise.reject(new Error("unused")),
    recover: () => new Promise((resolve) => release = resolve),
    history: () => Promise.reject(new Error("unused")),
  };
  const { hub, connect } = testHub({ history });
  const c = connect(anonymous(), jsonCodec);
  c.send({ type: "subscribe", channel: CH, delta: true, since: { epoch: "e", offset: 1 } });
  // Live while the history is read: 3 (also in the replay) and 4, 5.
  hub.deliver(CH, quotes[3], { offset: 3, epoch: "e" });
  hub.deliver(CH, quotes[4], { offset: 4, epoch: "e" });
  hub.deliver(CH, quotes[5], { offset: 5, epoch: "e" });
  release({
    recovered: true,
    position: { epoch: "e", offset: 3 },
    messages: [
      { channel: CH, epoch: "e", offset: 2, ts: 1, data: quotes[2] },
      { channel: CH, epoch: "e", offset: 3, ts: 1, data: quotes[3] },
    ],
  });
  await new Promise((r) => setTimeout(r, 0));
  deepStrictEqual((c.t.ofType("subscribed")[0].data as { delta?: boolean }).delta, true);
  hub.deliver(CH, quotes[6], { offset: 6, epoch: "e" });
  deepStrictEqual(kinds(c.t), ["full", "full", "full", "full", "delta"]);
  deepStrictEqual(values(c.t), quotes.slice(2, 7));
  deepStrictEqual(c.t.ofType("message").map((m) => m.offset), [2, 3, 4, 5, 6]);
});
