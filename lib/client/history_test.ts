import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { fakeClient, settle } from "./_fakes.ts";
import { RequestError } from "./errors.ts";
import { MAX_PENDING_REQUESTS } from "./requests.ts";

const page = {
  epoch: "e1",
  offset: 12,
  messages: [
    { offset: 11, epoch: "e1", ts: 5, data: { text: "a" }, from: "u1" },
    { offset: 12, epoch: "e1", ts: 6, data: { text: "b" } },
  ],
};

/** Settles `promise` into `{ ok, value }` / `{ error }` so tests can look without awaiting forever. */
function outcome<T>(promise: Promise<T>) {
  const o: { value?: T; error?: RequestError; done: boolean } = { done: false };
  promise.then((value) => {
    o.value = value;
    o.done = true;
  }, (error) => {
    o.error = error;
    o.done = true;
  });
  return o;
}

Deno.test("[client] history: sends a request with an id and resolves with the page", async () => {
  const { client, last, establish } = fakeClient();
  client.connect();
  establish();
  const got = outcome(client.history<{ text: string }>("presence:lobby", { limit: 2 }));
  deepStrictEqual(last().ofType("history"), [
    { v: 1, type: "history", id: "q1", channel: "presence:lobby", limit: 2 },
  ]);
  last().message({ v: 1, type: "history", id: "q1", channel: "presence:lobby", data: page });
  await settle();
  deepStrictEqual(got.value, page);
  const paged = outcome(client.history("presence:lobby", { before: 11 }));
  deepStrictEqual(last().ofType("history")[1], {
    v: 1,
    type: "history",
    id: "q2",
    channel: "presence:lobby",
    before: 11,
  });
  last().message({ v: 1, type: "history", id: "q2", channel: "presence:lobby", data: page });
  await settle();
  equal(paged.done, true);
});

Deno.test("[client] history: while not connected it waits, then goes after subscribes and publishes", async () => {
  const { client, last, establish, timers } = fakeClient();
  const got = outcome(client.history("presence:lobby"));
  client.subscribe("presence:lobby", { onMessage() {} });
  client.publish("presence:lobby", "hi").catch(() => {});
  client.connect();
  timers.advance(5_000);
  establish();
  deepStrictEqual(last().sent.map((f) => f.type).filter((t) => t !== "ping"), [
    "subscribe",
    "publish",
    "history",
  ]);
  deepStrictEqual(last().ofType("history")[0], {
    v: 1,
    type: "history",
    id: "q1",
    channel: "presence:lobby",
  });
  last().message({ v: 1, type: "history", id: "q1", channel: "presence:lobby", data: page });
  await settle();
  deepStrictEqual(got.value, page);
});

Deno.test("[client] history: an error reply rejects with a typed RequestError", async () => {
  const { client, last, establish } = fakeClient();
  client.connect();
  establish();
  const got = outcome(client.history("user:bob"));
  last().message({
    v: 1,
    type: "error",
    id: "q1",
    data: {
      code: "forbidden",
      message: "Cannot read the history of user:bob: not allowed for this user",
      temporary: false,
    },
  });
  await settle();
  ok(got.error instanceof RequestError);
  deepStrictEqual(
    [got.error.code, got.error.request, got.error.channel, got.error.id, got.error.temporary],
    ["forbidden", "history", "user:bob", "q1", false],
  );
  equal(got.error.message, "Cannot read the history of user:bob: not allowed for this user");
});

Deno.test("[client] history: times out without a reply, or without a connection", async () => {
  const { client, last, establish, timers } = fakeClient({ requestTimeoutMs: 3_000 });
  const offline = outcome(client.history("presence:lobby"));
  timers.advance(2_999);
  await settle();
  equal(offline.done, false);
  timers.advance(1);
  await settle();
  deepStrictEqual([offline.error?.code, offline.error?.temporary], ["timeout", true]);
  ok(/not connected within 3000 ms/.test(offline.error!.message), offline.error!.message);
  client.connect();
  establish();
  const unanswered = outcome(client.history("presence:lobby", { timeoutMs: 500 }));
  timers.advance(500);
  await settle();
  equal(unanswered.error?.code, "timeout");
  ok(/no reply within 500 ms/.test(unanswered.error!.message));
  // A late reply changes nothing.
  last().message({ v: 1, type: "history", id: "q2", channel: "presence:lobby", data: page });
  await settle();
  equal(timers.pending > 0, true, "the client's own timers run on");
});

Deno.test("[client] history: a drop after sending rejects; a request not yet sent survives the drop", async () => {
  const { client, last, establish, timers, sockets } = fakeClient();
  client.connect();
  establish();
  const sent = outcome(client.history("presence:lobby"));
  last().serverClose(1006);
  const waiting = outcome(client.history("presence:lobby", { limit: 5 }));
  await settle();
  deepStrictEqual([sent.error?.code, sent.error?.temporary], ["disconnected", true]);
  equal(waiting.done, false);
  timers.advance(1_000);
  equal(sockets.length, 2);
  establish();
  deepStrictEqual(last().ofType("history"), [
    { v: 1, type: "history", id: "q2", channel: "presence:lobby", limit: 5 },
  ]);
  last().message({ v: 1, type: "history", id: "q2", channel: "presence:lobby", data: page });
  await settle();
  deepStrictEqual(waiting.value, page);
});

Deno.test("[client] history: disconnect() fails what was sent; bad arguments are refused locally", async () => {
  const { client, last, establish } = fakeClient();
  client.connect();
  establish();
  const sent = outcome(client.history("presence:lobby"));
  client.disconnect();
  await settle();
  equal(sent.error?.code, "disconnected");
  for (const options of [{ limit: 0 }, { limit: 101 }, { limit: 2.5 }, { before: -1 }]) {
    const bad = outcome(client.history("presence:lobby", options));
    await settle();
    equal(bad.error?.code, "bad_message", JSON.stringify(options));
  }
  equal(last().ofType("history").length, 1, "nothing more was sent");
});

Deno.test("[client] history: requests waiting are bounded", async () => {
  const { client } = fakeClient();
  const all = Array.from(
    { length: MAX_PENDING_REQUESTS + 1 },
    () => outcome(client.history("presence:lobby")),
  );
  await settle();
  equal(all.filter((o) => o.done).length, 1);
  equal(all.at(-1)!.error?.code, "queue_full");
});
