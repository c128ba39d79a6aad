import { equal } from "node:assert/strict";
import { PriceHistory } from "./history.ts";

Deno.test("[alerts] price history: change over 5 m / 1 h from bounded samples", () => {
  const h = new PriceHistory({ sampleMs: 5_000, keepMs: 65 * 60_000, maxSymbols: 2 });
  const t0 = 1_000_000_000;
  // One quote a second for 10 minutes, rising 1 per minute from 100.
  for (let s = 0; s <= 600; s++) h.add("X", t0 + s * 1_000, 100 + s / 60);
  equal(h.size("X"), 121, "one sample per 5 s");
  const now = t0 + 600_000;
  const change = h.changePct("X", 5 * 60_000, now, 110)!;
  equal(Math.round(change * 100) / 100, 4.76, "110 against 105 five minutes ago");
  equal(h.changePct("X", 60 * 60_000, now, 110), undefined, "the history does not reach 1 h back");
  // Seeded from candle closes (older than what is kept): now 1 h is known.
  h.seed("X", Array.from({ length: 60 }, (_, m) => ({ ts: t0 - (60 - m) * 60_000, price: 50 })));
  equal(h.changePct("X", 60 * 60_000, now, 110), 120);
  // Bounded: samples older than keepMs are dropped, symbols beyond maxSymbols ignored.
  h.add("X", now + 70 * 60_000, 120);
  equal(h.size("X"), 1);
  h.add("Y", now, 1);
  h.add("Z", now, 1);
  equal(h.size("Z"), 0);
});
