import { equal, ok } from "node:assert/strict";
import { leaseHolder } from "../bus/lease.ts";
import { MARKET_LEASE, runMarketProducer } from "./producer.ts";
import { createSimulatedMarket } from "./simulated.ts";
import { readBoard } from "./store.ts";
import { deadline } from "../../tests/_deadline.ts";

function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return (async () => {
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
}

Deno.test("[producer] one of two producers holds the lease and the board advances", async () => {
  using kv = await Deno.openKv(":memory:");
  const stopA = new AbortController();
  const stopB = new AbortController();
  const holders: string[] = [];
  const run = (holder: string, signal: AbortSignal) =>
    runMarketProducer({
      kv,
      holder,
      signal,
      market: createSimulatedMarket({ seed: holder === "a" ? 1 : 2 }),
      intervalMs: 10,
      leaseTtlMs: 2_000,
      onLeaseChange: (held) => held && holders.push(holder),
    });
  const a = run("a", stopA.signal);
  const b = run("b", stopB.signal);
  await waitFor(async () => ((await readBoard(kv))?.seq ?? 0) >= 5, "five board writes");
  equal(holders.length, 1, `exactly one holder, saw ${holders}`);
  const first = holders[0];
  // The holder stops and releases: the other takes over and continues from the board.
  const priceBefore = (await readBoard(kv))!.quotes["BTC-USD"].price;
  (first === "a" ? stopA : stopB).abort();
  await deadline(first === "a" ? a : b, 5_000, `producer ${first} to stop`);
  await waitFor(
    async () => (await leaseHolder(kv, MARKET_LEASE)) === (first === "a" ? "b" : "a"),
    "takeover",
  );
  const seq = (await readBoard(kv))!.seq;
  await waitFor(async () => (await readBoard(kv))!.seq > seq + 3, "the new holder writes");
  const priceAfter = (await readBoard(kv))!.quotes["BTC-USD"].price;
  ok(Math.abs(priceAfter / priceBefore - 1) < 0.05, `continuous: ${priceBefore} → ${priceAfter}`);
  stopA.abort();
  stopB.abort();
  await deadline(Promise.all([a, b]), 5_000, "both producers to stop");
  equal(await leaseHolder(kv, MARKET_LEASE), null, "released on stop");
});
