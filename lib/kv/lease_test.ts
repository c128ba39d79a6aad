import { equal } from "node:assert/strict";
import { leaseHolder, releaseLease, tryAcquireLease } from "./lease.ts";

Deno.test("[lease] one holder at a time; takeover only after expiry", async () => {
  using kv = await Deno.openKv(":memory:");
  let t = 1_000;
  const now = () => t;
  equal(await tryAcquireLease(kv, "m", { holder: "a", ttlMs: 100, now }), true);
  equal(await tryAcquireLease(kv, "m", { holder: "b", ttlMs: 100, now }), false);
  equal(await leaseHolder(kv, "m", now), "a");
  t += 50;
  equal(await tryAcquireLease(kv, "m", { holder: "a", ttlMs: 100, now }), true, "renewal");
  t += 99;
  equal(
    await tryAcquireLease(kv, "m", { holder: "b", ttlMs: 100, now }),
    false,
    "renewed lease holds",
  );
  t += 2;
  equal(await leaseHolder(kv, "m", now), null);
  equal(await tryAcquireLease(kv, "m", { holder: "b", ttlMs: 100, now }), true, "expired → taken");
  equal(await leaseHolder(kv, "m", now), "b");
});

Deno.test("[lease] release frees the lease at once, and only for its holder", async () => {
  using kv = await Deno.openKv(":memory:");
  const now = () => 0;
  await tryAcquireLease(kv, "m", { holder: "a", ttlMs: 60_000, now });
  await releaseLease(kv, "m", "b");
  equal(await leaseHolder(kv, "m", now), "a");
  await releaseLease(kv, "m", "a");
  equal(await leaseHolder(kv, "m", now), null);
  equal(await tryAcquireLease(kv, "m", { holder: "b", ttlMs: 60_000, now }), true);
});

Deno.test("[lease] concurrent racers: exactly one wins", async () => {
  using kv = await Deno.openKv(":memory:");
  const now = () => 0;
  const results = await Promise.all(
    Array.from(
      { length: 8 },
      (_, i) => tryAcquireLease(kv, "m", { holder: `h${i}`, ttlMs: 1000, now }),
    ),
  );
  equal(results.filter(Boolean).length, 1);
});
