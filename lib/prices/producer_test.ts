import { deepStrictEqual, equal } from "node:assert/strict";
import { leaseHolder } from "../kv/lease.ts";
import { runUnderLease } from "./producer.ts";
import { deadline, waitFor } from "../../tests/_deadline.ts";

Deno.test("[lease loop] one of two loops holds the lease; the other takes over and resumes", async () => {
  using kv = await Deno.openKv(":memory:");
  const stop = { a: new AbortController(), b: new AbortController() };
  const events: string[] = [];
  const counter = ["test", "counter"];
  const run = (holder: "a" | "b") =>
    runUnderLease({
      kv,
      lease: "test",
      holder,
      intervalMs: 10,
      leaseTtlMs: 2_000,
      signal: stop[holder].signal,
      acquired: () => {
        events.push(`${holder} acquired`);
        return Promise.resolve();
      },
      async tick() {
        // Resumes from what the previous holder left.
        const n = (await kv.get<number>(counter)).value ?? 0;
        await kv.set(counter, n + 1);
      },
      released: () => {
        events.push(`${holder} released`);
        return Promise.resolve();
      },
    });
  const loops = { a: run("a"), b: run("b") };
  const count = async () => (await kv.get<number>(counter)).value ?? 0;
  await waitFor(async () => (await count()) >= 5, { timeoutMs: 5_000, what: "five ticks" });
  equal(events.length, 1, `exactly one holder: ${events}`);
  const first = events[0].startsWith("a") ? "a" : "b";
  const second = first === "a" ? "b" : "a";
  stop[first].abort();
  await deadline(loops[first], 5_000, `loop ${first} to stop`);
  await waitFor(async () => (await leaseHolder(kv, "test")) === second, {
    timeoutMs: 5_000,
    what: "the takeover",
  });
  const before = await count();
  await waitFor(async () => (await count()) > before + 3, {
    timeoutMs: 5_000,
    what: "the new holder to tick on from the old count",
  });
  stop[second].abort();
  await deadline(loops[second], 5_000, `loop ${second} to stop`);
  deepStrictEqual(events, [
    `${first} acquired`,
    `${first} released`,
    `${second} acquired`,
    `${second} released`,
  ]);
  equal(await leaseHolder(kv, "test"), null, "released on stop");
});
