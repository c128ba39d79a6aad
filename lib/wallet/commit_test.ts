import { deepEqual, equal, rejects } from "node:assert/strict";
import { chainCursorKey, chainOutboxPrefix } from "../kv/keys.ts";
import { ChangeSet, commitChanges, FencedError, put, say } from "./commit.ts";
import type { ChainCursor } from "./store.ts";

const cursor: ChainCursor = {
  number: 5,
  hash: "0xaa",
  genesis: "0x00",
  itemSeq: 1,
  outboxSeq: 1,
  ingested: 6,
  reorgs: 0,
  deepReorgs: 0,
  lastReorg: null,
};

Deno.test("[commit] units in order, split under KV's limits, messages in the outbox, cursor last", async () => {
  using kv = await Deno.openKv(":memory:");
  const key = chainCursorKey(1);
  const stamp = (await kv.set(key, cursor)).versionstamp;
  const changes = new ChangeSet();
  for (let i = 0; i < 300; i++) {
    const unit = changes.unit();
    put(unit, ["t", i, "a"], { i, pad: "x".repeat(1_000) });
    put(unit, ["t", i, "b"], i);
    say(unit, `wallet:${i % 3}`, { type: "item", i });
  }
  const next = { ...cursor, number: 6, hash: "0xbb" as const, itemSeq: 42, ingested: 7 };
  const out = await commitChanges(kv, 1, stamp, cursor, next, changes);
  equal(out.cursor.number, 6);
  equal(out.cursor.itemSeq, 42);
  const stored = await kv.get<ChainCursor>(key);
  deepEqual(stored.value, out.cursor);
  equal(stored.versionstamp, out.versionstamp);
  const messages: unknown[] = [];
  for await (const e of kv.list<{ data: { i: number } }[]>({ prefix: chainOutboxPrefix(1) })) {
    messages.push(...e.value.map((m) => m.data.i));
  }
  deepEqual(messages, Array.from({ length: 300 }, (_, i) => i), "every message once, in order");
  equal(out.cursor.outboxSeq > 2, true, "several outbox entries (each under 64 KiB)");
  equal((await kv.get(["t", 299, "b"])).value, 299);
});

Deno.test("[commit] a cursor moved by someone else fences the commit off: nothing written", async () => {
  using kv = await Deno.openKv(":memory:");
  const key = chainCursorKey(1);
  const stamp = (await kv.set(key, cursor)).versionstamp;
  await kv.set(key, { ...cursor, number: 9 }); // another holder
  const changes = new ChangeSet();
  put(changes.unit(), ["x"], 1);
  await rejects(
    commitChanges(kv, 1, stamp, cursor, { ...cursor, number: 6 }, changes),
    FencedError,
  );
  equal((await kv.get(["x"])).value, null);
  equal((await kv.get<ChainCursor>(key)).value?.number, 9);
});
