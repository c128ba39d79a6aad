/** Batched frames: one frame per connection and task (lib/gateway/batching.ts). */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { decodeMulti, encode } from "@msgpack/msgpack";
import { jsonCodec, msgpackCodec } from "../protocol/codec.ts";
import { Batcher, MAX_BATCH_BYTES } from "./batching.ts";
import { fakeTransport } from "./_fake_transport.ts";
import { testHub, user } from "./_test_util.ts";
import { DEFAULT_FLOW } from "./outbound.ts";
import { waitFor } from "../../tests/_deadline.ts";

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

Deno.test("[batching] frames of one task go out as one, joined by line feeds, in order", async () => {
  const batcher = new Batcher();
  const inner = fakeTransport();
  const t = batcher.wrap(inner);
  t.send('{"n":1}');
  t.send('{"n":2}');
  t.send('{"n":3}');
  equal(inner.raw.length, 0, "nothing is written before the task ends");
  equal(t.bufferedAmount, 23, "what is held counts as buffered (with the line feeds)");
  equal(batcher.pending, 1);
  await tick();
  deepStrictEqual(inner.raw, ['{"n":1}\n{"n":2}\n{"n":3}']);
  equal(t.bufferedAmount, 0);
  t.send('{"n":4}');
  await tick();
  deepStrictEqual(inner.raw.at(-1), '{"n":4}', "a single message is sent as it is");
});

Deno.test("[batching] MessagePack values are concatenated and decode one by one", async () => {
  const batcher = new Batcher();
  const inner = fakeTransport();
  const t = batcher.wrap(inner);
  t.send(encode({ type: "a" }));
  t.send(encode({ type: "b", data: [1, 2] }));
  await tick();
  equal(inner.raw.length, 1);
  deepStrictEqual([...decodeMulti(inner.raw[0] as Uint8Array)], [
    { type: "a" },
    { type: "b", data: [1, 2] },
  ]);
});

Deno.test("[batching] a close sends what is held first; a big batch is cut at the bound", async () => {
  const batcher = new Batcher();
  const inner = fakeTransport();
  const t = batcher.wrap(inner);
  t.send('{"type":"error"}');
  t.close(4502, "flood");
  deepStrictEqual(inner.raw, ['{"type":"error"}'], "the reply went before the close");
  deepStrictEqual(inner.closed, { code: 4502, reason: "flood" });
  equal(batcher.pending, 0);

  const big = batcher.wrap(fakeTransport());
  const inner2 = (big as unknown as { inner: ReturnType<typeof fakeTransport> }).inner;
  const part = `{"p":"${"x".repeat(1000)}"}`;
  const n = Math.ceil((MAX_BATCH_BYTES * 1.5) / part.length);
  for (let i = 0; i < n; i++) big.send(part);
  equal(inner2.raw.length, 1, "the first batch went when it reached the bound");
  await tick();
  equal(inner2.raw.length, 2);
  equal(inner2.frames.length, n, "every message arrived");
  for (const frame of inner2.raw) {
    equal((frame as string).length <= MAX_BATCH_BYTES, true, "no frame above the bound");
  }
});

Deno.test("[batching] the hub: a round of latest values is one frame for a batching client", async () => {
  for (const codec of [jsonCodec, msgpackCodec]) {
    const { hub } = testHub();
    const plainT = fakeTransport();
    const batchT = fakeTransport();
    const plain = hub.open(plainT, { principal: user("p"), codec, ip: "10.0.0.1" });
    const batched = hub.open(batchT, { principal: user("b"), codec, ip: "10.0.0.2", batch: true });
    for (const [conn, n] of [[plain, 0], [batched, 0]] as const) {
      for (const s of ["A", "B", "C"]) {
        hub.receive(
          conn,
          codec === jsonCodec
            ? JSON.stringify({ type: "subscribe", channel: `prices:${s}` })
            : encode({ type: "subscribe", channel: `prices:${s}` }),
        );
      }
      equal(n, 0);
    }
    await tick();
    const before = { plain: plainT.raw.length, batched: batchT.raw.length };
    for (const s of ["A", "B", "C"]) hub.deliver(`prices:${s}`, { symbol: s, price: 2 });
    await tick();
    equal(plainT.raw.length - before.plain, 3, `${codec.name}: one frame per message without`);
    equal(batchT.raw.length - before.batched, 1, `${codec.name}: one frame for the round with`);
    const text = hub.metrics.registry.render();
    ok(/realtime_batched_frames_total \d+/.test(text), "frames counted");
    ok(/realtime_batched_messages_total ([3-9]|\d\d+)/.test(text), "at least the round's 3");
    deepStrictEqual(
      batchT.ofType("message").map((m) => (m.data as { symbol: string }).symbol),
      ["A", "B", "C"],
    );
    equal(
      batchT.ofType("connected")[0].data &&
        (batchT.ofType("connected")[0].data as { batch?: boolean }).batch,
      true,
    );
    equal((plainT.ofType("connected")[0].data as { batch?: boolean }).batch, undefined);
    hub.stop();
  }
});

Deno.test("[batching] flow: latest values wait, newest only, while the socket has a backlog", async () => {
  const { hub } = testHub({ flow: DEFAULT_FLOW });
  const t = fakeTransport();
  const conn = hub.open(t, { principal: user("b"), codec: jsonCodec, ip: "10.0.0.2", batch: true });
  hub.receive(conn, JSON.stringify({ type: "subscribe", channel: "prices:A" }));
  hub.receive(conn, JSON.stringify({ type: "subscribe", channel: "prices:B" }));
  await tick();
  const prices = () => t.ofType("message").map((m) => (m.data as { price: number }).price);
  hub.deliver("prices:A", { symbol: "A", price: 1 });
  await tick();
  deepStrictEqual(prices(), [1], "written while the socket had nothing queued");
  t.bufferedAmount = 500; // the socket has not written that yet
  for (let price = 2; price <= 9; price++) {
    hub.deliver("prices:A", { symbol: "A", price });
    hub.deliver("prices:B", { symbol: "B", price: price * 10 });
    await tick();
  }
  deepStrictEqual(prices(), [1], "held while the backlog lasts");
  equal(conn.pending.size, 2, "one value per channel");
  t.bufferedAmount = 0;
  await waitFor(() => prices().length === 3, {
    timeoutMs: 2_000,
    what: "the held values after the backlog was written",
  });
  deepStrictEqual(prices().slice(1).sort((a, b) => a - b), [9, 90], "the newest of each");
  hub.stop();
});
