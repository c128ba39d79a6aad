import { deepEqual, equal } from "node:assert/strict";
import { parseCandle, parseCandleList, parseOverview, parseQuote } from "./validate.ts";

const quote = {
  symbol: "BTC-USD",
  price: 67000,
  bid: 66999,
  ask: 67001,
  open24h: 66000,
  change24hPct: 1.5,
  volume24h: 100,
  sources: ["coinbase", "kraken"],
  ts: 1,
  conf: 3.2,
  sourcesUsed: 2,
  stale: false,
  degraded: false,
  venues: {
    coinbase: { price: 67000, ageMs: 100, status: "used" },
    binance: { price: 67100, ageMs: 200, status: "outlier", usdProxy: true },
    kraken: { price: null, ageMs: null, status: "down" },
  },
};

Deno.test("[prices/ui] validate: quotes", () => {
  deepEqual(parseQuote(quote), quote);
  equal(parseQuote({ ...quote, price: "67000" }), null);
  equal(parseQuote({ ...quote, price: Infinity }), null);
  equal(parseQuote({ ...quote, symbol: "<img src=x>" }), null);
  equal(parseQuote({ ...quote, venues: { x: { price: 1, ageMs: 1, status: "hacked" } } }), null);
  const venues = Object.fromEntries(
    Array.from({ length: 17 }, (_, i) => [`v${i}`, { price: 1, ageMs: 1, status: "used" }]),
  );
  equal(parseQuote({ ...quote, venues }), null, "too many venues");
  equal(parseQuote("BTC"), null);
  // Unknown fields are dropped, not kept.
  equal("extra" in (parseQuote({ ...quote, extra: 1 }) ?? {}), false);
});

Deno.test("[prices/ui] validate: candles and the candles answer", () => {
  const c = { t: 60_000, o: 10, h: 12, l: 9, c: 11, v: 3, n: 2 };
  deepEqual(parseCandle(c), c);
  equal(parseCandle({ ...c, h: 8 }), null, "high below the close");
  equal(parseCandle({ ...c, v: -1 }), null);
  equal(parseCandle({ ...c, n: "2" }), null);
  deepEqual(parseCandleList([{ ...c, t: 120_000 }, c, { bad: 1 }, c]), [c, { ...c, t: 120_000 }]);
  deepEqual(parseCandleList({ candles: [c] }), [c]);
  equal(parseCandleList({ items: [c] }), null);
  equal(parseCandleList("[]"), null);
  equal(
    parseCandleList(Array.from({ length: 6000 }, (_, i) => ({ ...c, t: i * 60_000 })))?.length,
    5000,
  );
});

Deno.test("[prices/ui] validate: the market overview", () => {
  const o = {
    ts: 1,
    volume24hUsd: 5e9,
    gainers: [{ symbol: "SOL-USD", changePct: 3, price: 150 }],
    losers: [],
    advancers: 6,
    decliners: 4,
    volumeShare: [{ asset: "BTC", share: 0.4 }],
    venues: [{ venue: "coinbase", connected: true, ageMs: 120, staleSymbols: 0 }],
  };
  deepEqual(parseOverview(o), o);
  equal(parseOverview({ ...o, gainers: "SOL" }), null);
  equal(parseOverview({ ...o, venues: [{ venue: "x" }] }), null);
});
