import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { fakeClient, FakeStorage } from "./_fakes.ts";
import { loadOutbox, newPublishId } from "./outbox.ts";
import type { PublishError } from "./errors.ts";

const KEY = "realtime:outbox";
const ROOM = "presence:lobby";

function stored(storage: FakeStorage, key = KEY): { id: string; data: unknown }[] {
  const raw = storage.items.get(key);
  return raw === undefined ? [] : JSON.parse(raw).publishes;
}

Deno.test("[outbox] a queue persisted by one client is restored and sent by the next", () => {
  const storage = new FakeStorage();
  const first = fakeClient({ storage });
  first.client.publish(ROOM, { text: "one" }).catch(() => {});
  first.client.publish(ROOM, { text: "two" }).catch(() => {});
  const ids = stored(storage).map((e) => e.id);
  equal(ids.length, 2, "written as they are queued");
  // The page is closed before it ever connected. A new page, a new client:
  const second = fakeClient({ storage });
  equal(second.client.pendingPublishes, 2);
  second.client.connect();
  equal(second.last().ofType("publish").length, 0, "restored publishes wait for `connected`");
  second.establish();
  const sent = second.last().ofType("publish");
  deepStrictEqual(sent.map((m) => m.id), ids, "same ids, same order");
  deepStrictEqual(sent.map((m) => m.data), [{ text: "one" }, { text: "two" }]);
  second.last().message({
    v: 1,
    type: "ack",
    id: ids[0],
    channel: ROOM,
    data: { ts: 1, offset: 7, epoch: "e" },
  });
  second.last().message({
    v: 1,
    type: "error",
    id: ids[1],
    data: { code: "forbidden", message: "Cannot publish to presence:lobby", temporary: false },
  });
  deepStrictEqual(second.settled.map((s) => [s.id, s.ok]), [[ids[0], true], [ids[1], false]]);
  deepStrictEqual(second.settled[0], {
    id: ids[0],
    channel: ROOM,
    ok: true,
    result: { offset: 7, epoch: "e" },
  });
  deepStrictEqual(second.failed, [{ code: "forbidden", id: ids[1], channel: ROOM }]);
  equal(storage.items.has(KEY), false, "an empty queue leaves nothing behind");
});

Deno.test("[outbox] settled publishes leave storage; storageKey separates queues", async () => {
  const storage = new FakeStorage();
  const a = fakeClient({ storage, storageKey: "rt:alice" });
  a.client.connect();
  a.establish();
  const done = a.client.publish(ROOM, 1);
  const id = a.last().ofType("publish")[0].id;
  deepStrictEqual(stored(storage, "rt:alice").map((e) => e.id), [id], "in flight: still stored");
  const b = fakeClient({ storage, storageKey: "rt:bob" });
  equal(b.client.pendingPublishes, 0);
  a.last().message({ v: 1, type: "ack", id, channel: ROOM, data: { ts: 1 } });
  deepStrictEqual(await done, {});
  equal(storage.items.size, 0);
});

Deno.test("[outbox] corrupt storage is ignored and cleared", () => {
  for (
    const raw of [
      "{not json",
      "null",
      "42",
      '"text"',
      "[]",
      '{"v":2,"publishes":[]}',
      '{"v":1,"publishes":{}}',
      '{"v":1}',
    ]
  ) {
    const storage = new FakeStorage();
    storage.items.set(KEY, raw);
    const { client } = fakeClient({ storage });
    equal(client.pendingPublishes, 0, raw);
    equal(storage.items.has(KEY), false, `${raw} is cleared`);
  }
});

Deno.test("[outbox] invalid entries are dropped, valid ones kept (deduplicated, bounded)", () => {
  const storage = new FakeStorage();
  const good = (id: string) => ({ id, channel: ROOM, data: id });
  storage.items.set(
    KEY,
    JSON.stringify({
      v: 1,
      publishes: [
        good("a"),
        null,
        { id: "", channel: ROOM, data: 1 },
        { id: "x".repeat(65), channel: ROOM, data: 1 },
        { id: "b", channel: 5, data: 1 },
        { id: "c", channel: ROOM },
        good("a"),
        good("d"),
        good("e"),
      ],
    }),
  );
  const { client } = fakeClient({ storage, maxQueue: 2 });
  equal(client.pendingPublishes, 2);
  deepStrictEqual(stored(storage).map((e) => e.id), ["a", "d"], "rewritten clean");
});

Deno.test("[outbox] a storage that throws does not break publishing", async () => {
  const storage = new FakeStorage();
  storage.failing = true;
  const { client, last, establish } = fakeClient({ storage });
  client.connect();
  establish();
  const done = client.publish(ROOM, 1);
  const id = last().ofType("publish")[0].id;
  last().message({ v: 1, type: "ack", id, channel: ROOM, data: { ts: 1, offset: 1 } });
  equal((await done).offset, 1);
});

Deno.test("[outbox] clearOutbox() cancels everything and empties storage", async () => {
  const storage = new FakeStorage();
  const { client, settled } = fakeClient({ storage });
  const p = client.publish(ROOM, 1);
  equal(client.clearOutbox(), 1);
  await rejects(p, (e: PublishError) => e.code === "cancelled");
  equal(settled.length, 1);
  equal(storage.items.has(KEY), false);
  equal(loadOutbox(storage, KEY, 10).length, 0);
});

Deno.test("[outbox] publish ids are unique and at most 64 characters", () => {
  const ids = new Set(Array.from({ length: 1_000 }, () => newPublishId()));
  equal(ids.size, 1_000);
  ok([...ids].every((id) => id.length >= 1 && id.length <= 64));
});
