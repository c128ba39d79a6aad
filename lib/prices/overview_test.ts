import { deepStrictEqual, equal } from "node:assert/strict";
import { computeOverview } from "./overview.ts";
import type { Quote } from "./types.ts";
import type { VenueHealth } from "./venues/types.ts";

function q(symbol: string, price: number, change24hPct: number, volume24h: number): Quote {
  return {
    symbol,
    price,
    bid: price,
    ask: price,
    open24h: price / (1 + change24hPct / 100),
    change24hPct,
    volume24h,
    sources: [],
    ts: 0,
  };
}

function health(venue: string, connected: boolean, lastMessageAt: number | null): VenueHealth {
  return {
    venue,
    connected,
    lastMessageAt,
    reconnects: 0,
    gaps: 0,
    malformed: 0,
    messages: 0,
    symbols: ["BTC-USD", "ETH-USD"],
    staleSymbols: connected ? [] : ["BTC-USD", "ETH-USD"],
    usdProxy: false,
  };
}

Deno.test("[overview] volume, movers, breadth, shares and venues", () => {
  const o = computeOverview(
    [
      q("BTC-USD", 100, 2, 10), // 1 000 USD
      q("ETH-USD", 10, -1, 200), // 2 000 USD
      q("SOL-USD", 1, 5, 500), //  500 USD
      q("XRP-USD", 0.5, -3, 1_000), // 500 USD
      q("ADA-USD", 0.1, 0, 0),
      q("DOT-USD", 2, 1, 0),
      q("BAD-USD", NaN, 1, 5),
    ],
    [health("a", true, 9_000), health("b", false, null)],
    10_000,
  );
  equal(o.ts, 10_000);
  equal(o.volume24hUsd, 4_000);
  deepStrictEqual(o.gainers.map((g) => g.symbol), ["SOL-USD", "BTC-USD", "DOT-USD"]);
  deepStrictEqual(o.losers.map((g) => g.symbol), ["XRP-USD", "ETH-USD"]);
  deepStrictEqual(o.gainers[0], { symbol: "SOL-USD", changePct: 5, price: 1 });
  equal(o.advancers, 3);
  equal(o.decliners, 2);
  deepStrictEqual(o.volumeShare.slice(0, 4), [
    { asset: "ETH", share: 0.5 },
    { asset: "BTC", share: 0.25 },
    { asset: "SOL", share: 0.125 },
    { asset: "XRP", share: 0.125 },
  ]);
  deepStrictEqual(o.venues, [
    { venue: "a", connected: true, ageMs: 1_000, staleSymbols: 0 },
    { venue: "b", connected: false, ageMs: null, staleSymbols: 2 },
  ]);
});

Deno.test("[overview] empty market", () => {
  const o = computeOverview([], [], 5);
  deepStrictEqual(o, {
    ts: 5,
    volume24hUsd: 0,
    gainers: [],
    losers: [],
    advancers: 0,
    decliners: 0,
    volumeShare: [],
    venues: [],
  });
});
