import { deepStrictEqual, equal, match } from "node:assert/strict";
import { candlesResponse, pricesResponse, sourcesResponse } from "./http.ts";
import { createCandleBook } from "./candles.ts";
import type { PriceBoard } from "./types.ts";

const SYMBOLS = new Set(["BTC-USD", "ETH-USD"]);
const H0 = 1_700_000_000_000 - (1_700_000_000_000 % 3_600_000);

function url(query: string): URL {
  return new URL(`http://localhost/api/candles?${query}`);
}

Deno.test("[prices http] GET /api/candles: bad parameters are 400 with the reason", async () => {
  using kv = await Deno.openKv(":memory:");
  const cases: [string, RegExp][] = [
    ["interval=1m", /^symbol: /],
    ["symbol=NOPE-USD", /^symbol: unknown symbol "NOPE-USD"/],
    ["symbol=BTC-USD&interval=5m", /^interval: interval is 1m or 1h/],
    ["symbol=BTC-USD&from=yesterday", /^from: expected milliseconds since the epoch/],
    ["symbol=BTC-USD&to=-5", /^to: expected milliseconds/],
    ["symbol=BTC-USD&from=20&to=10", /from is after to/],
    ["symbol=BTC-USD&limit=0", /^limit: limit is 1 to 1500/],
    ["symbol=BTC-USD&limit=99999", /^limit: limit is 1 to 1500/],
    [`symbol=${"X".repeat(500)}`, /^symbol: symbol is too long/],
  ];
  for (const [query, reason] of cases) {
    const res = await candlesResponse(kv, url(query), SYMBOLS, H0);
    equal(res.status, 400, query);
    const body = await res.json();
    equal(body.error, "bad_request");
    match(body.reason, reason, query);
  }
});

Deno.test("[prices http] GET /api/candles answers the stored candles", async () => {
  using kv = await Deno.openKv(":memory:");
  let t = H0 + 1_000;
  const book = createCandleBook({ kv, symbols: ["BTC-USD"], now: () => t });
  book.add("BTC-USD", t, 100, 1);
  t += 60_000;
  book.add("BTC-USD", t, 101, 2);
  await book.flush(true);
  const res = await candlesResponse(kv, url("symbol=BTC-USD&interval=1m"), SYMBOLS, t);
  equal(res.status, 200);
  equal(res.headers.get("cache-control"), "no-store");
  const body = await res.json();
  equal(body.symbol, "BTC-USD");
  equal(body.interval, "1m");
  equal(body.truncated, false);
  deepStrictEqual(body.candles.map((c: { t: number; c: number }) => [c.t - H0, c.c]), [
    [0, 100],
    [60_000, 101],
  ]);
  const ranged = await (await candlesResponse(
    kv,
    url(`symbol=BTC-USD&interval=1m&from=${H0 + 60_000}&to=${H0 + 60_000}`),
    SYMBOLS,
    t,
  )).json();
  equal(ranged.candles.length, 1);
  const hours = await (await candlesResponse(kv, url("symbol=BTC-USD&interval=1h"), SYMBOLS, t))
    .json();
  deepStrictEqual(hours.candles.map((c: { v: number; n: number }) => [c.v, c.n]), [[3, 2]]);
});

Deno.test("[prices http] GET /api/sources and GET /api/prices from the board", async () => {
  const board: PriceBoard = {
    seq: 4,
    ts: 1_000,
    quotes: {},
    overview: undefined,
    venues: [{
      venue: "coinbase",
      connected: true,
      lastMessageAt: 900,
      reconnects: 1,
      gaps: 2,
      malformed: 3,
      messages: 40,
      symbols: ["BTC-USD"],
      staleSymbols: [],
      usdProxy: false,
    }],
  };
  const sources = await sourcesResponse(board, 1_500).json();
  deepStrictEqual(sources, {
    ts: 1_500,
    boardAgeMs: 500,
    venues: [{
      venue: "coinbase",
      connected: true,
      lastMessageAgeMs: 600,
      reconnects: 1,
      gaps: 2,
      malformed: 3,
      messages: 40,
      symbols: ["BTC-USD"],
      staleSymbols: [],
      usdProxy: false,
    }],
  });
  deepStrictEqual(await sourcesResponse(null, 5).json(), { ts: 5, boardAgeMs: null, venues: [] });
  deepStrictEqual(await pricesResponse(board).json(), { seq: 4, ts: 1_000, quotes: {} });
  deepStrictEqual(await pricesResponse(null).json(), { seq: 0, ts: 0, quotes: {} });
});
