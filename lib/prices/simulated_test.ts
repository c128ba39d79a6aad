import { deepStrictEqual, equal, notDeepStrictEqual, ok } from "node:assert/strict";
import { createSimulatedMarket, DEFAULT_ASSETS } from "./simulated.ts";

Deno.test("[prices] the same seed and clock give the same walk", () => {
  const clock = () => 1_700_000_000_000;
  const a = createSimulatedMarket({ seed: 7, now: clock });
  const b = createSimulatedMarket({ seed: 7, now: clock });
  deepStrictEqual(a.snapshot(), b.snapshot());
  for (let i = 0; i < 20; i++) deepStrictEqual(a.tick(250), b.tick(250));
  const c = createSimulatedMarket({ seed: 8, now: clock });
  notDeepStrictEqual(a.snapshot(), c.snapshot());
});

Deno.test("[prices] quotes stay positive, consistent and move over time", () => {
  let t = 0;
  const market = createSimulatedMarket({ seed: 3, now: () => t });
  const first = new Map(market.snapshot().map((q) => [q.symbol, q.price]));
  equal(market.symbols.length, DEFAULT_ASSETS.length);
  let moves = 0;
  for (let i = 0; i < 200; i++) {
    t += 250;
    const moved = market.tick(250);
    moves += moved.length;
    for (const q of moved) {
      ok(q.price > 0, `${q.symbol} price ${q.price}`);
      ok(q.bid < q.ask, `${q.symbol} bid < ask`);
      equal(q.ts, t);
      const expected = Math.round(((q.price - q.open24h) / q.open24h) * 10_000) / 100;
      equal(q.change24hPct, expected);
    }
  }
  ok(moves > 200, `expected many moves, saw ${moves}`);
  const changed = market.snapshot().filter((q) => q.price !== first.get(q.symbol));
  equal(changed.length, DEFAULT_ASSETS.length);
});

Deno.test("[prices] restore continues from stored quotes and ignores unknown or bad ones", () => {
  const market = createSimulatedMarket({ seed: 1, now: () => 0 });
  const btc = market.snapshot().find((q) => q.symbol === "BTC-USD")!;
  market.restore([
    { ...btc, price: 12_345 },
    { ...btc, symbol: "NOPE-USD", price: 1 },
    { ...btc, symbol: "ETH-USD", price: -5 },
  ]);
  const after = market.snapshot();
  equal(after.find((q) => q.symbol === "BTC-USD")!.price, 12_345);
  equal(after.some((q) => q.symbol === "NOPE-USD"), false);
  ok(after.find((q) => q.symbol === "ETH-USD")!.price > 0);
});

Deno.test("[prices] an empty universe is refused", () => {
  let message = "";
  try {
    createSimulatedMarket({ assets: [] });
  } catch (err) {
    message = (err as Error).message;
  }
  equal(message, "Cannot create market: no assets given");
});
