import { deepEqual, equal } from "node:assert/strict";
import type { Quote } from "../types.ts";
import { summarizeQuotes } from "./overview.ts";

const q = (
  symbol: string,
  price: number,
  change: number,
  volume: number,
  venues?: Quote["venues"],
): Quote => ({
  symbol,
  price,
  bid: price,
  ask: price,
  open24h: price,
  change24hPct: change,
  volume24h: volume,
  sources: [],
  ts: 1,
  venues,
});

Deno.test("[prices/ui] overview from quotes: volume, breadth, movers, shares, venues", () => {
  const o = summarizeQuotes([
    q("BTC-USD", 100, 2, 6, {
      coinbase: { price: 100, ageMs: 300, status: "used" },
      kraken: { price: null, ageMs: null, status: "down" },
    }),
    q("ETH-USD", 10, -1, 30, { coinbase: { price: 10, ageMs: 100, status: "stale" } }),
    q("SOL-USD", 1, 0, 100),
    q("XRP-USD", 1, 5, 0),
    q("ADA-USD", 1, -3, 0),
    q("DOT-USD", 1, 1, 0),
  ], 42);
  equal(o.ts, 42);
  equal(o.volume24hUsd, 600 + 300 + 100);
  equal(o.advancers, 3);
  equal(o.decliners, 2);
  deepEqual(o.gainers.map((m) => m.symbol), ["XRP-USD", "BTC-USD", "DOT-USD"]);
  deepEqual(o.losers.map((m) => m.symbol), ["ADA-USD", "ETH-USD"]);
  deepEqual(o.volumeShare, [
    { asset: "BTC", share: 0.6 },
    { asset: "ETH", share: 0.3 },
    { asset: "SOL", share: 0.1 },
  ]);
  deepEqual(o.venues, [
    { venue: "coinbase", connected: true, ageMs: 100, staleSymbols: 1 },
    { venue: "kraken", connected: false, ageMs: null, staleSymbols: 0 },
  ]);
  deepEqual(summarizeQuotes([], 1).volumeShare, []);
});
