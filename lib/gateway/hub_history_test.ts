import { deepStrictEqual, equal } from "node:assert/strict";
import type { BusMessage, Position, Recovery } from "../bus/engine.ts";
import { testHub, user } from "./_test_util.ts";
import type { HistorySource } from "./hub.ts";

function msg(offset: number, data: unknown = offset): BusMessage {
  return { channel: "room:r", epoch: "e1", offset, ts: 1, data };
}

/** A history whose answers the test releases by hand. */
function manualHistory() {
  let release: (r: Recovery) => void = () => {};
  const calls: { channel: string; since?: Position }[] = [];
  const source: HistorySource = {
    position(channel) {
      calls.push({ channel });
      return new Promise((resolve) => release = (r) => resolve(r.position));
    },
    recover(channel, since) {
      calls.push({ channel, since });
      return new Promise((resolve) => release = resolve);
    },
    history: () => Promise.reject(new Error("unused")),
  };
  return { source, calls, answer: (r: Recovery) => release(r) };
}

const offsets = (frames: Record<string, unknown>[]) =>
  frames.filter((f) => f.type === "message").map((f) => f.offset);

Deno.test("[hub] subscribe answers with the channel's position; live messages carry offsets", async () => {
  const h = manualHistory();
  const { hub, connect } = testHub({ history: h.source });
  const c = connect(user("u"));
  c.send({ type: "subscribe", id: "s", channel: "room:r" });
  h.answer({ recovered: false, position: { epoch: "e1", offset: 7 } });
  await new Promise((r) => setTimeout(r, 0));
  deepStrictEqual(c.t.ofType("subscribed")[0], {
    v: 1,
    type: "subscribed",
    id: "s",
    channel: "room:r",
    data: { epoch: "e1", offset: 7, presence: true },
  });
  hub.deliver("room:r", "x", { offset: 8, epoch: "e1" });
  deepStrictEqual(c.t.ofType("message").map((m) => [m.offset, m.epoch, m.data]), [[8, "e1", "x"]]);
});

Deno.test("[hub] recovery replays what was missed, then live messages held meanwhile, without duplicates", async () => {
  const h = manualHistory();
  const { hub, connect } = testHub({ history: h.source });
  const c = connect(user("u"));
  c.send({ type: "subscribe", id: "s", channel: "room:r", since: { epoch: "e1", offset: 3 } });
  deepStrictEqual(h.calls, [{ channel: "room:r", since: { epoch: "e1", offset: 3 } }]);
  // While the history is read, messages 6 (already in the history) and 7, 8 arrive live.
  hub.deliver("room:r", 6, { offset: 6, epoch: "e1" });
  hub.deliver("room:r", 7, { offset: 7, epoch: "e1" });
  equal(offsets(c.t.frames).length, 0, "held during recovery");
  h.answer({
    recovered: true,
    position: { epoch: "e1", offset: 6 },
    messages: [msg(4), msg(5), msg(6)],
  });
  await new Promise((r) => setTimeout(r, 0));
  hub.deliver("room:r", 8, { offset: 8, epoch: "e1" });
  const sub = c.t.ofType("subscribed")[0];
  deepStrictEqual(sub.data, { epoch: "e1", offset: 6, recovered: true, presence: true });
  deepStrictEqual(offsets(c.t.frames), [4, 5, 6, 7, 8], "in order, 6 once");
  const subscribedAt = c.t.frames.indexOf(sub);
  equal(
    c.t.frames.findIndex((f) => f.type === "message") > subscribedAt,
    true,
    "replay follows `subscribed`",
  );
  equal(hub.metrics.recoveries.value({ result: "recovered" }), 1);
});

Deno.test("[hub] not recovered: no replay, the snapshot instead, then live", async () => {
  const h = manualHistory();
  const { hub, connect } = testHub({ history: h.source });
  const c = connect();
  c.send({ type: "subscribe", channel: "prices:A", since: { epoch: "old", offset: 1 } });
  h.answer({ recovered: false, position: { epoch: "e2", offset: 40 } });
  await new Promise((r) => setTimeout(r, 0));
  hub.deliver("prices:A", { price: 2 }, { offset: 41, epoch: "e2" });
  deepStrictEqual(c.t.ofType("subscribed")[0].data, {
    epoch: "e2",
    offset: 40,
    recovered: false,
    snapshot: { symbol: "A", price: 1 },
  });
  deepStrictEqual(offsets(c.t.frames), [41]);
  equal(hub.metrics.recoveries.value({ result: "not_recovered" }), 1);
});

Deno.test("[hub] a history failure answers a temporary error and leaves nothing subscribed", async () => {
  const { hub, connect } = testHub({
    history: {
      position: () => Promise.reject(new Error("kv down")),
      recover: () => Promise.reject(new Error("kv down")),
      history: () => Promise.reject(new Error("kv down")),
    },
  });
  const c = connect();
  c.send({ type: "subscribe", id: "s", channel: "prices:A" });
  await new Promise((r) => setTimeout(r, 0));
  deepStrictEqual(c.t.ofType("error")[0].data, {
    code: "internal",
    message: "Cannot subscribe to prices:A: history unavailable, retry",
    temporary: true,
  });
  equal(hub.stats().subscriptions, 0);
});

Deno.test("[hub] unsubscribing during recovery sends nothing afterwards", async () => {
  const h = manualHistory();
  const { connect } = testHub({ history: h.source });
  const c = connect(user("u"));
  c.send({ type: "subscribe", channel: "room:r", since: { epoch: "e1", offset: 0 } });
  c.send({ type: "unsubscribe", channel: "room:r" });
  h.answer({ recovered: true, position: { epoch: "e1", offset: 1 }, messages: [msg(1)] });
  await new Promise((r) => setTimeout(r, 0));
  equal(c.t.ofType("subscribed").length, 0);
  equal(offsets(c.t.frames).length, 0);
});

Deno.test("[hub] publish through a bus: ack carries the committed offset; a failed commit is an error", async () => {
  let fail = false;
  const { connect } = testHub({
    onPublish: () =>
      fail
        ? Promise.reject(new Error("commit failed"))
        : Promise.resolve({ offset: 12, epoch: "e9" }),
  });
  const c = connect(user("u"));
  c.send({ type: "publish", id: "p1", channel: "room:r", data: 1 });
  await new Promise((r) => setTimeout(r, 0));
  const ack = c.t.ofType("ack")[0];
  deepStrictEqual([
    ack.id,
    (ack.data as { offset: number }).offset,
    (ack.data as { epoch: string }).epoch,
  ], ["p1", 12, "e9"]);
  fail = true;
  c.send({ type: "publish", id: "p2", channel: "room:r", data: 2 });
  await new Promise((r) => setTimeout(r, 0));
  deepStrictEqual(c.t.ofType("error")[0], {
    v: 1,
    type: "error",
    id: "p2",
    data: {
      code: "internal",
      message: "Cannot publish to room:r: not stored, retry",
      temporary: true,
    },
  });
});
