import { deepStrictEqual as assertEquals, equal, ok, throws } from "node:assert/strict";
import {
  DEFAULT_PRICE_SYMBOLS,
  isKnownSymbol,
  mapSymbols,
  parseSymbol,
  toVenueSymbol,
} from "./symbols.ts";

Deno.test("[symbols] each venue's spelling; USDT flagged as a USD proxy", () => {
  assertEquals(toVenueSymbol("coinbase", "BTC-USD"), {
    canonical: "BTC-USD",
    venueSymbol: "BTC-USD",
    usdProxy: false,
  });
  assertEquals(toVenueSymbol("binance", "BTC-USD"), {
    canonical: "BTC-USD",
    venueSymbol: "btcusdt",
    usdProxy: true,
  });
  assertEquals(toVenueSymbol("kraken", "DOGE-USD"), {
    canonical: "DOGE-USD",
    venueSymbol: "DOGE/USD",
    usdProxy: false,
  });
  equal(toVenueSymbol("coinbase", "BNB-USD"), null, "Coinbase does not list BNB");
});

Deno.test("[symbols] an unknown symbol is a clear error", () => {
  throws(() => parseSymbol("FOO-USD"), /Unknown symbol "FOO-USD": known pairs are BTC-USD, /);
  throws(() => parseSymbol("btc-usd"), /Unknown symbol "btc-usd": expected BASE-USD/);
  throws(() => parseSymbol("BTC-EUR"), /Unknown symbol "BTC-EUR"/);
  throws(() => toVenueSymbol("kraken", "BTCUSD"), /Unknown symbol "BTCUSD"/);
  ok(DEFAULT_PRICE_SYMBOLS.every(isKnownSymbol));
  equal(DEFAULT_PRICE_SYMBOLS.length, 10);
});

Deno.test("[symbols] a venue map looks up both ways and lists what the venue lacks", () => {
  const map = mapSymbols("binance", ["BTC-USD", "ETH-USD", "BTC-USD"]);
  assertEquals(map.symbols.map((s) => s.venueSymbol), ["btcusdt", "ethusdt"]);
  equal(map.fromVenue("ETHUSDT")?.canonical, "ETH-USD");
  equal(map.fromVenue("solusdt"), undefined);
  equal(map.fromCanonical("BTC-USD")?.venueSymbol, "btcusdt");
  const coinbase = mapSymbols("coinbase", DEFAULT_PRICE_SYMBOLS);
  assertEquals(coinbase.unlisted, ["BNB-USD"]);
  equal(coinbase.symbols.length, 9);
  throws(() => mapSymbols("kraken", ["BTC-USD", "NOPE-USD"]), /Unknown symbol "NOPE-USD"/);
});
