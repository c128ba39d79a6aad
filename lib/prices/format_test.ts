import { equal } from "node:assert/strict";
import {
  baseAsset,
  formatAge,
  formatPct,
  formatPrice,
  formatVolume,
  priceDecimals,
  quoteCurrency,
} from "./format.ts";

Deno.test("[prices] format: prices with the precision of their size, in the locale and currency", () => {
  equal(formatPrice(67012.345), "67,012.35");
  equal(formatPrice(67012.345, { currency: "USD" }), "$67,012.35");
  equal(formatPrice(67012.345, { currency: "USD", locale: "de-DE" }), "67.012,35\u00a0$");
  equal(formatPrice(0.152341, { currency: "USD" }), "$0.1523");
  equal(formatPrice(7.1234), "7.123");
  equal(formatPrice(0.4523), "0.4523");
  equal(formatPrice(0.00001234), "0.00001234");
  equal(formatPrice(Number.NaN), "—");
  equal(priceDecimals(150.12), 2);
  equal(priceDecimals(0), 2);
  equal(
    formatPrice(6.9051, { currency: "USD", digits: 2 }),
    "$6.91",
    "a spread in the price's digits",
  );
  equal(formatPrice(1, { digits: 99 }), "1.000000000000");
  // A locale or currency the runtime does not know falls back instead of throwing.
  equal(formatPrice(1.5, { locale: "zz-invalid-@@", currency: "USD" }).includes("1.5"), true);
  equal(formatPrice(1.5, { currency: "NOT-A-CODE" }), "1.500");
});

Deno.test("[prices] format: signed percentages, compact volumes, ages", () => {
  equal(formatPct(1.234), "+1.23%");
  equal(formatPct(-0.4), "-0.40%");
  equal(formatPct(0), "0.00%");
  equal(formatPct(2.5, { locale: "de-DE" }), "+2,50\u00a0%");
  equal(formatVolume(1_940_000_000, { currency: "USD" }), "$1.9B");
  equal(formatVolume(12_345), "12.3K");
  equal(formatAge(400), "<1s");
  equal(formatAge(2_450), "2.4s");
  equal(formatAge(42_000), "42s");
  equal(formatAge(185_000), "3m");
  equal(formatAge(7_300_000), "2h");
  equal(formatAge(-5), "<1s");
  equal(quoteCurrency("BTC-USD"), "USD");
  equal(quoteCurrency("BTCUSD"), undefined);
  equal(baseAsset("DOGE-USD"), "DOGE");
});
