/** The `history` request: permissions, validation, bounds and the reply's shape. */
import { deepStrictEqual, equal } from "node:assert/strict";
import type { BusMessage, HistoryPage, HistoryQuery } from "../bus/engine.ts";
import { anonymous, testHub, user } from "./_test_util.ts";
import { type HistorySource, MAX_HISTORY_READS_IN_FLIGHT } from "./hub.ts";

function msg(offset: number, data: unknown = offset, from?: string): BusMessage {
  return {
    channel: "room:r",
    epoch: "e1",
    offset,
    ts: 1_000 + offset,
    data,
    ...(from ? { from } : {}),
  };
}

/** A history source that records queries and answers from `pages` (or by hand). */
function fakeHistory(answer: (channel: string, q: HistoryQuery) => Promise<HistoryPage>) {
  const queries: { channel: string; query: HistoryQuery }[] = [];
  const source: HistorySource = {
    position: () => Promise.resolve({ epoch: "e1", offset: 0 }),
    recover: () => Promise.reject(new Error("unused")),
    history(channel, query) {
      queries.push({ channel, query });
      return answer(channel, query);
    },
  };
  return { source, queries };
}

const tick = () => new Promise((r) => setTimeout(r, 0));
const codeOf = (frame: Record<string, unknown> | undefined) =>
  (frame?.data as { code?: string } | undefined)?.code;

Deno.test("[hub] history: answers the page with the channel's position, oldest first, without a subscription", async () => {
  const h = fakeHistory(() =>
    Promise.resolve({
      position: { epoch: "e1", offset: 9 },
      messages: [msg(7, { text: "a" }, "alice"), msg(8, "b"), msg(9, "c", "bob")],
    })
  );
  const { connect } = testHub({ history: h.source });
  const c = connect(user("alice"));
  c.send({ type: "history", id: "h1", channel: "room:r" });
  c.send({ type: "history", id: "h2", channel: "room:r", limit: 3, before: 10 });
  await tick();
  deepStrictEqual(h.queries, [
    { channel: "room:r", query: { limit: 50 } },
    { channel: "room:r", query: { limit: 3, before: 10 } },
  ]);
  deepStrictEqual(c.t.ofType("history")[1], {
    v: 1,
    type: "history",
    id: "h2",
    channel: "room:r",
    data: {
      epoch: "e1",
      offset: 9,
      messages: [
        { offset: 7, epoch: "e1", ts: 1_007, data: { text: "a" }, from: "alice" },
        { offset: 8, epoch: "e1", ts: 1_008, data: "b" },
        { offset: 9, epoch: "e1", ts: 1_009, data: "c", from: "bob" },
      ],
    },
  });
  equal(c.conn.channels.size, 0, "no subscription was made");
});

Deno.test("[hub] history: the same permission as subscribe, the same error codes", async () => {
  const h = fakeHistory(() =>
    Promise.resolve({ position: { epoch: "e", offset: 0 }, messages: [] })
  );
  const { connect } = testHub({ history: h.source });
  const anon = connect(anonymous());
  const alice = connect(user("alice"));
  anon.send({ type: "history", id: "a1", channel: "room:r" });
  anon.send({ type: "history", id: "a2", channel: "prices:A" });
  alice.send({ type: "history", id: "b1", channel: "user:bob" });
  alice.send({ type: "history", id: "b2", channel: "user:alice" });
  alice.send({ type: "history", id: "b3", channel: "nope:x" });
  alice.send({ type: "history", id: "b4", channel: "prices:NOPE" });
  await tick();
  deepStrictEqual(anon.t.ofType("error").map((f) => [f.id, codeOf(f)]), [["a1", "unauthorized"]]);
  deepStrictEqual(alice.t.ofType("error").map((f) => [f.id, codeOf(f)]), [
    ["b1", "forbidden"],
    ["b3", "unknown_channel"],
    ["b4", "unknown_channel"],
  ]);
  deepStrictEqual(
    (alice.t.ofType("error")[0].data as { message: string }).message,
    "Cannot read the history of user:bob: not allowed for this user",
  );
  deepStrictEqual(h.queries.map((q) => q.channel), ["prices:A", "user:alice"]);
  deepStrictEqual(
    [...anon.t.ofType("history"), ...alice.t.ofType("history")].map((f) => f.id),
    ["a2", "b2"],
  );
});

Deno.test("[hub] history: limit outside 1–100, a bad before or a missing id is bad_message", async () => {
  const h = fakeHistory(() =>
    Promise.resolve({ position: { epoch: "e", offset: 0 }, messages: [] })
  );
  const { connect } = testHub({ history: h.source });
  const c = connect(user("alice"));
  const bad: Record<string, unknown>[] = [
    { limit: 0 },
    { limit: 101 },
    { limit: 1.5 },
    { limit: "5" },
    { limit: -1 },
    { before: -1 },
    { before: 2.5 },
    { before: "9" },
    { extra: true },
  ];
  bad.forEach((fields, i) =>
    c.send({ type: "history", id: `x${i}`, channel: "room:r", ...fields })
  );
  c.send({ type: "history", channel: "room:r" });
  await tick();
  const errors = c.t.ofType("error");
  deepStrictEqual(
    errors.map((f) => [f.id, codeOf(f)]),
    [...bad.map((_, i) => [`x${i}`, "bad_message"]), [undefined, "bad_message"]],
  );
  equal(h.queries.length, 0);
  c.send({ type: "history", id: "ok1", channel: "room:r", limit: 1 });
  c.send({ type: "history", id: "ok100", channel: "room:r", limit: 100, before: 0 });
  await tick();
  deepStrictEqual(h.queries.map((q) => q.query), [{ limit: 1 }, { limit: 100, before: 0 }]);
});

Deno.test("[hub] history: an engine failure is a temporary internal error; no source is internal too", async () => {
  const failing = fakeHistory(() => Promise.reject(new Error("kv down")));
  const { connect } = testHub({ history: failing.source });
  const c = connect(user("alice"));
  c.send({ type: "history", id: "h", channel: "room:r" });
  await tick();
  deepStrictEqual(c.t.ofType("error")[0], {
    v: 1,
    type: "error",
    id: "h",
    data: {
      code: "internal",
      message: "Cannot read the history of room:r: history unavailable, retry",
      temporary: true,
    },
  });
  const bare = testHub().connect(user("alice"));
  bare.send({ type: "history", id: "h", channel: "room:r" });
  await tick();
  equal(codeOf(bare.t.ofType("error")[0]), "internal");
});

Deno.test("[hub] history: reads in flight per connection are bounded (attack: a burst of requests)", async () => {
  const waiting: (() => void)[] = [];
  const h = fakeHistory(() =>
    new Promise((resolve) =>
      waiting.push(() => resolve({ position: { epoch: "e", offset: 1 }, messages: [msg(1)] }))
    )
  );
  const { connect } = testHub({ history: h.source });
  const c = connect(user("alice"));
  for (let i = 0; i < 10; i++) c.send({ type: "history", id: `h${i}`, channel: "room:r" });
  equal(h.queries.length, MAX_HISTORY_READS_IN_FLIGHT, "only that many reach the store");
  deepStrictEqual(
    c.t.ofType("error").map((f) => [f.id, codeOf(f), (f.data as { temporary: boolean }).temporary]),
    Array.from({ length: 10 - MAX_HISTORY_READS_IN_FLIGHT }, (_, i) => [
      `h${i + MAX_HISTORY_READS_IN_FLIGHT}`,
      "rate_limited",
      true,
    ]),
  );
  for (const release of waiting.splice(0)) release();
  await tick();
  equal(c.t.ofType("history").length, MAX_HISTORY_READS_IN_FLIGHT);
  c.send({ type: "history", id: "again", channel: "room:r" });
  equal(h.queries.length, MAX_HISTORY_READS_IN_FLIGHT + 1, "free again once answered");
});

Deno.test("[hub] history: rate-limited like any client message", () => {
  const h = fakeHistory(() => new Promise(() => {}));
  const { connect } = testHub({
    history: h.source,
    limits: { messagesPerSecond: 1, messageBurst: 2 },
  });
  const c = connect(user("alice"));
  for (let i = 0; i < 3; i++) c.send({ type: "history", id: `h${i}`, channel: "room:r" });
  equal(h.queries.length, 2);
  deepStrictEqual(c.t.ofType("error").map((f) => [f.id, codeOf(f)]), [[undefined, "rate_limited"]]);
});

Deno.test("[hub] history: a page is cut to a byte budget, keeping the newest messages", async () => {
  const big = "x".repeat(10 * 1024);
  const h = fakeHistory(() =>
    Promise.resolve({
      position: { epoch: "e1", offset: 100 },
      messages: Array.from({ length: 100 }, (_, i) => msg(i + 1, big)),
    })
  );
  const { connect } = testHub({ history: h.source });
  const c = connect(user("alice"));
  c.send({ type: "history", id: "h", channel: "room:r", limit: 100 });
  await tick();
  const offsets = (c.t.ofType("history")[0].data as { messages: { offset: number }[] }).messages
    .map((m) => m.offset);
  // 256 KiB of 10 KiB messages: the newest 25; `before: 76` fetches the rest.
  deepStrictEqual(offsets, Array.from({ length: 25 }, (_, i) => 76 + i));
});

Deno.test("[hub] history: nothing is sent to a connection that closed while reading", async () => {
  let release = () => {};
  const h = fakeHistory(() =>
    new Promise((resolve) =>
      release = () => resolve({ position: { epoch: "e", offset: 0 }, messages: [] })
    )
  );
  const { hub, connect } = testHub({ history: h.source });
  const c = connect(user("alice"));
  c.send({ type: "history", id: "h", channel: "room:r" });
  hub.closed(c.conn);
  const before = c.t.frames.length;
  release();
  await tick();
  equal(c.t.frames.length, before);
});
