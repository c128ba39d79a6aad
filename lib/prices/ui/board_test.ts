import { deepEqual, equal } from "node:assert/strict";
import type { Quote } from "../types.ts";
import { assetName, matchesFilter, nextOrder, sortSymbols, visibleSymbols } from "./board.ts";

const q = (symbol: string, price: number, change: number, volume: number): Quote => ({
  symbol,
  price,
  bid: price,
  ask: price,
  open24h: price,
  change24hPct: change,
  volume24h: volume,
  sources: [],
  ts: 1,
});

const quotes: Record<string, Quote> = {
  "BTC-USD": q("BTC-USD", 67_000, 1.5, 100), // 6.7M
  "ETH-USD": q("ETH-USD", 3_400, -2, 1_000), // 3.4M
  "DOGE-USD": q("DOGE-USD", 0.15, 5, 100_000_000), // 15M
  "ADA-USD": q("ADA-USD", 0.45, -2, 1_000), // 450
};
const symbols = Object.keys(quotes);
const get = (s: string) => quotes[s];

Deno.test("[prices/ui] board: sorts by each column, both ways, stable, missing quotes last", () => {
  deepEqual(sortSymbols(symbols, get, null), symbols);
  deepEqual(sortSymbols(symbols, get, { key: "price", dir: "desc" }), [
    "BTC-USD",
    "ETH-USD",
    "ADA-USD",
    "DOGE-USD",
  ]);
  deepEqual(sortSymbols(symbols, get, { key: "price", dir: "asc" }), [
    "DOGE-USD",
    "ADA-USD",
    "ETH-USD",
    "BTC-USD",
  ]);
  // ETH and ADA tie on change: the given order stays.
  deepEqual(sortSymbols(symbols, get, { key: "change", dir: "desc" }), [
    "DOGE-USD",
    "BTC-USD",
    "ETH-USD",
    "ADA-USD",
  ]);
  // Volume is compared in USD (base volume × price), not in coins.
  deepEqual(sortSymbols(symbols, get, { key: "volume", dir: "desc" }), [
    "DOGE-USD",
    "BTC-USD",
    "ETH-USD",
    "ADA-USD",
  ]);
  // By the name shown (Bitcoin, Cardano, Dogecoin, Ethereum), not the ticker.
  deepEqual(sortSymbols(symbols, get, { key: "name", dir: "asc" }), [
    "BTC-USD",
    "ADA-USD",
    "DOGE-USD",
    "ETH-USD",
  ]);
  deepEqual(
    sortSymbols([...symbols, "XRP-USD"], get, { key: "price", dir: "asc" }).at(-1),
    "XRP-USD",
    "a pair without a quote goes last",
  );
});

Deno.test("[prices/ui] board: header clicks toggle, a new column starts in its own direction", () => {
  deepEqual(nextOrder(null, "price"), { key: "price", dir: "desc" });
  deepEqual(nextOrder({ key: "price", dir: "desc" }, "price"), { key: "price", dir: "asc" });
  deepEqual(nextOrder({ key: "price", dir: "asc" }, "name"), { key: "name", dir: "asc" });
});

Deno.test("[prices/ui] board: the filter matches pair and name, any case and separator", () => {
  for (const text of ["btc", "BTC-USD", "btc usd", "btc/usd", "bitcoin", " Bit ", ""]) {
    equal(matchesFilter("BTC-USD", text), true, text);
  }
  for (const text of ["eth", "doge", "x".repeat(500)]) {
    equal(matchesFilter("BTC-USD", text), false, text);
  }
  equal(assetName("DOGE-USD"), "Dogecoin");
  equal(assetName("ZZZ-USD"), "ZZZ");
  const shown = visibleSymbols(symbols, get, {
    order: { key: "price", dir: "desc" },
    filter: "usd",
    watched: new Set(["ADA-USD", "ETH-USD"]),
    onlyWatched: true,
  });
  deepEqual(shown, ["ETH-USD", "ADA-USD"]);
});
