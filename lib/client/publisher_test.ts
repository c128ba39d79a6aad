import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { fakeClient } from "./_fakes.ts";
import { PublishError } from "./errors.ts";

const ROOM = "presence:lobby";

function ack(id: unknown, offset: number) {
  return { v: 1, type: "ack", id, channel: ROOM, data: { ts: 1, offset, epoch: "e1" } };
}

function error(id: unknown, code: string, temporary: boolean) {
  return { v: 1, type: "error", id, data: { code, message: `Cannot publish: ${code}`, temporary } };
}

Deno.test("[publish] an ack resolves with its offset and epoch and settles ok", async () => {
  const { client, last, establish, settled } = fakeClient();
  client.connect();
  establish();
  const done = client.publish(ROOM, { text: "hi" });
  const [frame] = last().ofType("publish");
  equal(frame.channel, ROOM);
  deepStrictEqual(frame.data, { text: "hi" });
  ok(typeof frame.id === "string" && frame.id.length >= 1 && frame.id.length <= 64);
  last().message(ack(frame.id, 45));
  deepStrictEqual(await done, { offset: 45, epoch: "e1" });
  deepStrictEqual(settled, [{
    id: frame.id,
    channel: ROOM,
    ok: true,
    result: { offset: 45, epoch: "e1" },
  }]);
  equal(client.pendingPublishes, 0);
  last().message(ack(frame.id, 45)); // a duplicate ack changes nothing
  equal(settled.length, 1);
});

Deno.test("[publish] ack timeouts resend the same id, then fail: reject + onPublishFailed", async () => {
  const { client, last, establish, timers, failed, settled } = fakeClient({
    ackTimeoutMs: 1_000,
    publishRetries: 2,
  });
  client.connect();
  establish();
  const done = client.publish(ROOM, "x");
  timers.advance(999);
  equal(last().ofType("publish").length, 1, "not before the timeout");
  timers.advance(1);
  timers.advance(1_000);
  const sends = last().ofType("publish");
  equal(sends.length, 3, "sent once, resent twice");
  equal(new Set(sends.map((s) => s.id)).size, 1, "one id across resends");
  equal(failed.length, 0, "still waiting for the last resend");
  timers.advance(1_000);
  const err = await done.then(() => null, (e) => e);
  ok(err instanceof PublishError);
  ok(err instanceof Error);
  equal(err.code, "ack_timeout");
  equal(err.channel, ROOM);
  equal(err.id, sends[0].id);
  deepStrictEqual(failed, [{ code: "ack_timeout", id: sends[0].id, channel: ROOM }]);
  equal(settled.length, 1);
  equal(settled[0].ok, false);
  equal(last().ofType("publish").length, 3, "nothing more is sent");
});

Deno.test("[publish] a non-temporary error fails at once", async () => {
  const { client, last, establish, timers, failed } = fakeClient();
  client.connect();
  establish();
  const socket = last();
  const done = client.publish(ROOM, "x");
  const id = socket.ofType("publish")[0].id;
  socket.message(error(id, "forbidden", false));
  await rejects(done, (e: PublishError) => e.code === "forbidden" && e.id === id);
  equal(failed.length, 1);
  equal(client.pendingPublishes, 0);
  timers.advance(30_000);
  equal(socket.ofType("publish").length, 1, "never resent");
});

Deno.test("[publish] a temporary error is retried after a backoff, same id", async () => {
  const { client, last, establish, timers, failed } = fakeClient();
  client.connect();
  establish();
  const done = client.publish(ROOM, "x");
  const id = last().ofType("publish")[0].id;
  last().message(error(id, "rate_limited", true));
  equal(last().ofType("publish").length, 1);
  timers.advance(1_000); // full jitter: 0.5 × base 1 000
  deepStrictEqual(last().ofType("publish").map((m) => m.id), [id, id]);
  last().message(ack(id, 3));
  deepStrictEqual(await done, { offset: 3, epoch: "e1" });
  equal(failed.length, 0);
});

Deno.test("[publish] temporary errors beyond publishRetries fail with the server's code", async () => {
  const { client, last, establish, timers } = fakeClient({ publishRetries: 1 });
  client.connect();
  establish();
  const done = client.publish(ROOM, "x");
  const id = last().ofType("publish")[0].id;
  last().message(error(id, "internal", true));
  timers.advance(2_000);
  equal(last().ofType("publish").length, 2);
  last().message(error(id, "internal", true));
  await rejects(done, (e: PublishError) => e.code === "internal");
});

Deno.test("[publish] offline publishes are sent in order after reconnect, after re-subscribing", async () => {
  const { client, sockets, last, establish, timers } = fakeClient();
  client.subscribe(ROOM, { onMessage: () => {} });
  client.subscribe("prices:A", { onMessage: () => {} });
  const first = client.publish(ROOM, 1); // before connect()
  client.connect();
  last().open();
  const second = client.publish(ROOM, 2); // open, but no `connected` yet
  equal(last().ofType("publish").length, 0, "publishes wait for `connected`");
  last().message({
    v: 1,
    type: "connected",
    data: { heartbeat: { intervalMs: 1e6, timeoutMs: 1 } },
  });
  const inFlight = last().ofType("publish");
  deepStrictEqual(inFlight.map((m) => m.data), [1, 2]);
  sockets[0].serverClose(1006); // the socket drops before the acks
  const third = client.publish(ROOM, 3);
  equal(client.pendingPublishes, 3);
  timers.advance(1_000);
  establish();
  const types = last().sent.map((m) => m.type);
  deepStrictEqual(types.filter((t) => t !== "ping"), [
    "subscribe",
    "subscribe",
    "publish",
    "publish",
    "publish",
  ]);
  const resent = last().ofType("publish");
  deepStrictEqual(resent.map((m) => m.data), [1, 2, 3], "in publish order");
  deepStrictEqual(resent.slice(0, 2).map((m) => m.id), inFlight.map((m) => m.id), "same ids");
  resent.forEach((m, i) => last().message(ack(m.id, i)));
  deepStrictEqual(await Promise.all([first, second, third]).then((r) => r.map((x) => x.offset)), [
    0,
    1,
    2,
  ]);
});

Deno.test("[publish] the queue is bounded: one more fails at once with queue_full", async () => {
  const { client, failed, settled } = fakeClient({ maxQueue: 2 });
  const kept = [client.publish(ROOM, 1), client.publish(ROOM, 2)];
  const applied: string[] = [];
  const over = client.publish(ROOM, 3, {
    optimistic: { apply: () => applied.push("apply"), rollback: () => applied.push("rollback") },
  });
  await rejects(over, (e: PublishError) => e.code === "queue_full" && e.channel === ROOM);
  deepStrictEqual(failed.map((f) => f.code), ["queue_full"]);
  equal(settled.length, 1);
  deepStrictEqual(applied, [], "a refused publish changes nothing locally");
  equal(client.pendingPublishes, 2);
  equal(client.clearOutbox(), 2);
  for (const p of kept) await rejects(p, (e: PublishError) => e.code === "cancelled");
});

Deno.test("[publish] optimistic: apply at once, rollback on final failure only", async () => {
  const { client, last, establish } = fakeClient();
  const log: string[] = [];
  const optimistic = (name: string) => ({
    apply: () => log.push(`apply ${name}`),
    rollback: () => log.push(`rollback ${name}`),
  });
  const good = client.publish(ROOM, "a", { optimistic: optimistic("a") });
  const bad = client.publish(ROOM, "b", { optimistic: optimistic("b") });
  deepStrictEqual(log, ["apply a", "apply b"], "applied before any connection");
  client.connect();
  establish();
  const [a, b] = last().ofType("publish");
  last().message(ack(a.id, 1));
  last().message(error(b.id, "forbidden", false));
  await good;
  await rejects(bad);
  deepStrictEqual(log, ["apply a", "apply b", "rollback b"]);
});

Deno.test("[publish] a frame over the server's maxFrameBytes fails without being sent", async () => {
  const { client, last, establish } = fakeClient();
  client.connect();
  establish();
  const done = client.publish(ROOM, "é".repeat(40_000)); // 80 000 bytes of UTF-8
  await rejects(done, (e: PublishError) => e.code === "frame_too_large");
  equal(last().ofType("publish").length, 0);
  const fine = client.publish(ROOM, "a".repeat(20_000));
  equal(last().ofType("publish").length, 1);
  last().message(ack(last().ofType("publish")[0].id, 1));
  await fine;
});

Deno.test("[publish] disconnect() keeps unacknowledged publishes for the next connect", async () => {
  const { client, last, establish, timers } = fakeClient();
  client.connect();
  establish();
  const done = client.publish(ROOM, "x");
  const id = last().ofType("publish")[0].id;
  client.disconnect();
  equal(timers.pending, 0, "no ack timer survives a disconnect");
  equal(client.pendingPublishes, 1);
  client.connect();
  establish();
  equal(last().ofType("publish")[0].id, id);
  last().message(ack(id, 9));
  equal((await done).offset, 9);
});

Deno.test("[publish] undefined data is refused at once", async () => {
  const { client, failed } = fakeClient();
  await rejects(client.publish(ROOM, undefined), (e: PublishError) => e.code === "bad_message");
  equal(failed.length, 1);
});

Deno.test("[publish] a flushed queue is paced to the server's limit, in order", () => {
  // The fake server announces 50 messages/s, burst 100: the client spends at most half the
  // burst at once, then 40 a second (subscribes and pongs share the server's bucket).
  const { client, last, establish, timers } = fakeClient({ maxQueue: 100 });
  for (let i = 1; i <= 80; i++) client.publish(ROOM, { i }).catch(() => {});
  client.connect();
  establish();
  const sent = () => last().ofType("publish").map((f) => (f.data as { i: number }).i);
  equal(sent().length, 50, "half the burst at once");
  timers.advance(500);
  equal(sent().length, 70, "then 40 a second");
  timers.advance(500);
  deepStrictEqual(sent(), Array.from({ length: 80 }, (_, k) => k + 1), "all, once, in order");
  client.disconnect();
});
