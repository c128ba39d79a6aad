import { deepEqual, equal, match } from "node:assert/strict";
import {
  addWatched,
  deleteWatches,
  isWatching,
  listWatched,
  MAX_WATCHED,
  parseLabel,
  removeWatched,
  seedWatchOnce,
  watchedAddresses,
  watchRevision,
} from "./watch.ts";

const address = (i: number) => `0x${i.toString(16).padStart(40, "0")}`;

Deno.test("[watch] per user, at most 20, indexed for the listener, every change bumps the revision", async () => {
  using kv = await Deno.openKv(":memory:");
  const r0 = await watchRevision(kv);
  const first = await addWatched(kv, "u1", address(1), "one", () => 5);
  deepEqual(first, {
    ok: true,
    created: true,
    watched: { address: address(1), label: "one", addedAt: 5 },
  });
  const again = await addWatched(kv, "u1", address(1), "renamed", () => 9);
  deepEqual(again, {
    ok: true,
    created: false,
    watched: { address: address(1), label: "renamed", addedAt: 5 },
  });
  equal(await watchRevision(kv) > r0, true);
  for (let i = 2; i <= MAX_WATCHED; i++) {
    equal((await addWatched(kv, "u1", address(i), "")).ok, true);
  }
  const over = await addWatched(kv, "u1", address(99), "");
  equal(over.ok, false);
  if (!over.ok) match(over.message, /You watch 20 addresses/);
  await addWatched(kv, "u2", address(1), "");
  equal(await isWatching(kv, "u2", address(1)), true);
  equal(await isWatching(kv, "u2", address(2)), false);
  equal((await watchedAddresses(kv)).size, MAX_WATCHED);
  equal(await removeWatched(kv, "u1", address(2)), true);
  equal(await removeWatched(kv, "u1", address(2)), false);
  equal((await listWatched(kv, "u1")).length, MAX_WATCHED - 1);
  equal((await watchedAddresses(kv)).has(address(2)), false);
  await deleteWatches(kv, "u1");
  deepEqual(await listWatched(kv, "u1"), []);
  deepEqual([...await watchedAddresses(kv)], [address(1)], "u2's stays");
});

Deno.test("[watch] the demo address is given once; removing it is final", async () => {
  using kv = await Deno.openKv(":memory:");
  equal(await seedWatchOnce(kv, "demo", address(7), "Demo wallet"), true);
  equal(await removeWatched(kv, "demo", address(7)), true);
  equal(await seedWatchOnce(kv, "demo", address(7), "Demo wallet"), false);
  deepEqual(await listWatched(kv, "demo"), []);
});

Deno.test("[watch] labels: optional, bounded, no control or direction characters", () => {
  deepEqual(parseLabel(undefined), { ok: true, label: "" });
  deepEqual(parseLabel("  cold storage "), { ok: true, label: "cold storage" });
  deepEqual(parseLabel("é".repeat(40)), { ok: true, label: "é".repeat(40) });
  equal(parseLabel("x".repeat(41)).ok, false);
  equal(parseLabel("a\nb").ok, false);
  equal(parseLabel("evil\u202etxt").ok, false);
  equal(parseLabel(12).ok, false);
});
