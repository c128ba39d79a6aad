/**
 * End to end: the app (`deno serve main.ts`) with `PRICE_SOURCES=coinbase,binance,kraken`
 * pointed at three local fake venues (tests/fixtures/fake_venues.ts). The venues quote
 * slightly different prices; the app shows their median with its sources, and stopping
 * one venue lowers `sourcesUsed` in `GET /api/prices` and shows in `GET /api/sources`.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { fetchWithin, waitFor } from "./_deadline.ts";
import { startApp } from "./_server.ts";
import {
  type FakeVenue,
  startFakeBinance,
  startFakeCoinbase,
  startFakeKraken,
} from "./fixtures/fake_venues.ts";
import type { Quote } from "../lib/prices/types.ts";

const SYMBOLS = ["BTC-USD", "ETH-USD"];
/** Each venue's BTC price: the median is Kraken's. */
const BTC: Record<string, number> = { coinbase: 100_000, binance: 100_040, kraken: 100_020 };

Deno.test({
  name: "[prices e2e] the median of three fake venues, and one venue going down",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const venues: FakeVenue[] = [
      startFakeCoinbase({ symbols: SYMBOLS }),
      startFakeBinance({ symbols: SYMBOLS }),
      startFakeKraken({ symbols: SYMBOLS }),
    ];
    // Keep every venue's prices fresh (the app's max age is 3 s here).
    let live = new Set(venues);
    const pump = setInterval(() => {
      for (const v of live) {
        v.tick("BTC-USD", { price: BTC[v.name], bid: BTC[v.name] - 1, ask: BTC[v.name] + 1 });
        v.tick("ETH-USD", { price: 3_000, bid: 2_999.5, ask: 3_000.5 });
      }
    }, 200);
    const url = (name: string) => venues.find((v) => v.name === name)!.url;
    const app = await startApp({
      env: {
        PRICE_SOURCES: "coinbase,binance,kraken",
        PRICE_SYMBOLS: SYMBOLS.join(","),
        COINBASE_WS_URL: url("coinbase"),
        BINANCE_WS_URL: url("binance"),
        KRAKEN_WS_URL: url("kraken"),
        PRICE_MAX_AGE_MS: "3000",
        MARKET_TICK_MS: "100",
      },
    });
    const btc = async (): Promise<Quote | undefined> => {
      const board = await (await fetchWithin(`${app.origin}/api/prices`)).json();
      return board.quotes["BTC-USD"];
    };
    try {
      const quote = await waitFor(async () => {
        const q = await btc();
        return q?.sourcesUsed === 3 && q;
      }, {
        timeoutMs: 30_000,
        what: "a BTC-USD quote from three venues",
        detail: () => app.output().slice(-2_000),
      });
      equal(quote.price, BTC.kraken, "the median of the three venues");
      equal(quote.conf, 20, "half the venues' range");
      equal(quote.stale, false);
      equal(quote.degraded, false);
      deepStrictEqual(quote.sources.toSorted(), ["binance", "coinbase", "kraken"]);
      equal(quote.venues!.binance.usdProxy, true, "Binance quotes USDT");
      equal(quote.venues!.coinbase.price, BTC.coinbase);

      const sources = await (await fetchWithin(`${app.origin}/api/sources`)).json();
      deepStrictEqual(
        sources.venues.map((v: { venue: string; connected: boolean }) => [v.venue, v.connected]),
        [["coinbase", true], ["binance", true], ["kraken", true]],
      );
      for (const v of sources.venues) {
        deepStrictEqual(v.symbols, SYMBOLS);
        ok(v.lastMessageAgeMs !== null && v.lastMessageAgeMs < 5_000, JSON.stringify(v));
        equal(v.malformed, 0);
      }

      // Kraken goes down: drops its sockets and refuses new ones.
      const kraken = venues.find((v) => v.name === "kraken")!;
      live = new Set(venues.filter((v) => v !== kraken));
      kraken.setDown(true);
      const after = await waitFor(async () => {
        const q = await btc();
        return q?.sourcesUsed === 2 && q;
      }, {
        timeoutMs: 20_000,
        what: "sourcesUsed to drop to 2",
        detail: () => app.output().slice(-2_000),
      });
      equal(after.venues!.kraken.status, "down");
      equal(after.price, (BTC.coinbase + BTC.binance) / 2, "the median of the two left");
      equal(after.degraded, false, "two venues still make the quorum");
      const down = await waitFor(async () => {
        const s = await (await fetchWithin(`${app.origin}/api/sources`)).json();
        const k = s.venues.find((v: { venue: string }) => v.venue === "kraken");
        return k && !k.connected && k;
      }, { timeoutMs: 10_000, what: "/api/sources to show Kraken disconnected" });
      deepStrictEqual(down.staleSymbols, SYMBOLS);

      // Candles come from the venues' trades.
      for (const v of live) v.trade("BTC-USD", { price: BTC[v.name], size: 0.5 });
      const candles = await waitFor(async () => {
        const res = await fetchWithin(`${app.origin}/api/candles?symbol=BTC-USD&interval=1m`);
        const body = await res.json();
        return body.candles?.length > 0 && body.candles;
      }, { timeoutMs: 15_000, what: "a stored 1 m candle" });
      ok(candles.at(-1).v >= 0.5, JSON.stringify(candles));
      const bad = await fetchWithin(`${app.origin}/api/candles?symbol=BTC-USD&interval=2m`);
      equal(bad.status, 400);
      equal((await bad.json()).error, "bad_request");
    } finally {
      clearInterval(pump);
      await app.stop();
      await Promise.all(venues.map((v) => v.close()));
    }
  },
});
