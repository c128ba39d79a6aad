import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import {
  createVenueFeed,
  DEFAULT_PRICE_SYMBOLS,
  DEFAULT_VENUE_URLS,
  parsePriceSources,
  parsePriceSymbols,
  validateVenueUrl,
} from "./mod.ts";

function env(values: Record<string, string>) {
  return { get: (name: string) => values[name] };
}

Deno.test("[venues config] defaults: simulated, the public endpoints, the ten pairs", () => {
  assertEquals(parsePriceSources(env({})), {
    sources: ["simulated"],
    urls: {
      coinbase: "wss://advanced-trade-ws.coinbase.com",
      binance: "wss://stream.binance.com:9443",
      kraken: "wss://ws.kraken.com/v2",
    },
    symbols: [...DEFAULT_PRICE_SYMBOLS],
  });
  assertEquals(DEFAULT_VENUE_URLS.kraken, "wss://ws.kraken.com/v2");
});

Deno.test("[venues config] reads sources, URLs and symbols", () => {
  const config = parsePriceSources(env({
    PRICE_SOURCES: " Coinbase, binance ,kraken,coinbase",
    BINANCE_WS_URL: "ws://127.0.0.1:9001",
    PRICE_SYMBOLS: "btc-usd,ETH-USD",
  }));
  assertEquals(config.sources, ["coinbase", "binance", "kraken"]);
  assertEquals(config.urls.binance, "ws://127.0.0.1:9001");
  assertEquals(config.urls.coinbase, DEFAULT_VENUE_URLS.coinbase);
  assertEquals(config.symbols, ["BTC-USD", "ETH-USD"]);
});

Deno.test("[venues config] a bad value names its variable", () => {
  throws(
    () => parsePriceSources(env({ PRICE_SOURCES: "coinbase,bitstamp" })),
    /^Error: Cannot read PRICE_SOURCES: unknown source "bitstamp"; expected a comma list of coinbase, binance, kraken, simulated$/,
  );
  throws(
    () => parsePriceSources(env({ COINBASE_WS_URL: "https://advanced-trade-ws.coinbase.com" })),
    /^Error: Cannot read COINBASE_WS_URL: expected a ws:\/\/ or wss:\/\/ URL/,
  );
  throws(
    () => parsePriceSources(env({ BINANCE_WS_URL: "not a url" })),
    /Cannot read BINANCE_WS_URL/,
  );
  throws(
    () => parsePriceSources(env({ KRAKEN_WS_URL: "wss://user:secret@ws.kraken.com/v2" })),
    (err: Error) => err.message === "Cannot read KRAKEN_WS_URL: the URL must not carry credentials",
  );
  throws(
    () => parsePriceSources(env({ PRICE_SYMBOLS: "BTC-USD,FOO-USD" })),
    /^Error: Cannot read PRICE_SYMBOLS: Unknown symbol "FOO-USD"/,
  );
  throws(() => parsePriceSymbols("X".repeat(5_000)), /Cannot read PRICE_SYMBOLS: longer than/);
  throws(() => validateVenueUrl("KRAKEN_WS_URL", "wss://a/b#c"), /must not have a #fragment/);
});

Deno.test("[venues] createVenueFeed refuses an unknown symbol and an unknown venue", () => {
  const onEvent = () => {};
  throws(
    () => createVenueFeed("kraken", { symbols: ["NOPE-USD"], onEvent }),
    /Unknown symbol "NOPE-USD"/,
  );
  throws(
    () => createVenueFeed("bitstamp" as "kraken", { symbols: ["BTC-USD"], onEvent }),
    /Cannot create venue feed: unknown venue "bitstamp"/,
  );
});
