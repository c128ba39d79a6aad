import { deepEqual, equal, throws } from "node:assert/strict";
import type { Candle } from "../types.ts";
import { LiveCandles, rollup, tradeBurst } from "./live_candles.ts";

const M = 60_000;
const H = 60 * M;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % H); // an hour start

function c(t: number, close: number, n = 1, v = n): Candle {
  return { t, o: close, h: close + 1, l: close - 1, c: close, v, n };
}

Deno.test("[prices/ui] live candles (1m): update, append, late merge, drops", () => {
  const s = new LiveCandles(M);
  s.load([c(T0 + 2 * M, 12), c(T0, 10), c(T0 + M, 11), c(T0 + M, 11.5)]);
  deepEqual(
    s.bars.map((b) => [b.t - T0, b.c]),
    [[0, 10], [M, 11.5], [2 * M, 12]],
    "sorted, one per t",
  );

  deepEqual(s.apply(c(T0 + 2 * M, 12.5, 3)), { op: "update", bar: c(T0 + 2 * M, 12.5, 3) });
  equal(s.apply(c(T0 + 3 * M, 13)).op, "append");
  // A late minute whose bar is there: merged in place, as a historical update.
  deepEqual(s.apply(c(T0 + M, 11.7, 2)), {
    op: "update",
    bar: c(T0 + M, 11.7, 2),
    historical: true,
  });
  equal(s.bars[1].c, 11.7);
  // A late minute with no bar (a gap), or an older state of a bar: dropped, counted.
  deepEqual(s.apply(c(T0 - 5 * M, 9)), { op: "drop", reason: "late" });
  deepEqual(s.apply(c(T0 + M, 11.6, 1)), { op: "drop", reason: "older_state" });
  deepEqual(s.apply(c(T0 + 3 * M, 12, 0)), { op: "drop", reason: "older_state" });
  equal(s.dropped, 3);
  equal(s.bars.length, 4);
  // Times are floored to the interval.
  deepEqual(s.apply(c(T0 + 4 * M + 1234, 14)), { op: "append", bar: c(T0 + 4 * M, 14) });
});

Deno.test("[prices/ui] live candles (1h): minutes roll into the open hour, late minutes merge", () => {
  const s = new LiveCandles(H);
  const hourBefore: Candle = { t: T0 - H, o: 5, h: 9, l: 4, c: 8, v: 50, n: 20 };
  // History: the previous hour, the open hour as the server had it, and its minutes.
  const openHour: Candle = { t: T0, o: 8, h: 10, l: 7, c: 9, v: 3, n: 3 };
  s.load([hourBefore, openHour], [
    { t: T0, o: 8, h: 10, l: 8, c: 9, v: 1, n: 1 },
    { t: T0 + M, o: 9, h: 9, l: 7, c: 9, v: 2, n: 2 },
  ]);
  deepEqual(s.bars.at(-1), { t: T0, o: 8, h: 10, l: 7, c: 9, v: 3, n: 3 });
  // The live minute 2 grows: the hour bar follows, volume is the sum of the minutes.
  let change = s.apply({ t: T0 + 2 * M, o: 9, h: 12, l: 9, c: 11, v: 4, n: 2 });
  deepEqual(change, { op: "update", bar: { t: T0, o: 8, h: 12, l: 7, c: 11, v: 7, n: 5 } });
  change = s.apply({ t: T0 + 2 * M, o: 9, h: 12, l: 6, c: 10, v: 5, n: 3 });
  deepEqual(change, { op: "update", bar: { t: T0, o: 8, h: 12, l: 6, c: 10, v: 8, n: 6 } });
  // A late minute of the same hour merges (its volume counts, the close stays the newest).
  change = s.apply({ t: T0 + M, o: 9, h: 9, l: 7, c: 9, v: 2.5, n: 3 });
  deepEqual(change, { op: "update", bar: { t: T0, o: 8, h: 12, l: 6, c: 10, v: 8.5, n: 7 } });
  // A minute of the previous hour: dropped; of the next hour: a new bar.
  equal(s.apply(c(T0 - M, 8)).op, "drop");
  deepEqual(s.apply(c(T0 + H + 5 * M, 20)), { op: "append", bar: { ...c(T0 + H, 20), t: T0 + H } });
  equal(s.bars.length, 3);
});

Deno.test("[prices/ui] live candles: an empty history starts from the live minute", () => {
  const s = new LiveCandles(H);
  s.load([], []);
  deepEqual(s.apply(c(T0 + 7 * M, 3)), { op: "append", bar: { ...c(T0 + 7 * M, 3), t: T0 } });
  throws(() => new LiveCandles(1_000), /whole minutes/);
  equal(rollup([], 0), null);
});

Deno.test("[prices/ui] trade bursts from two states of the live candle", () => {
  equal(tradeBurst(undefined, c(T0, 10, 5), 1), null, "no previous state: nothing to compare");
  deepEqual(tradeBurst(c(T0, 10, 5, 2), c(T0, 10.5, 8, 3.5), 9), {
    ts: 9,
    price: 10.5,
    size: 1.5,
    count: 3,
    side: "up",
  });
  equal(tradeBurst(c(T0, 10, 5), c(T0, 10, 5), 9), null, "a repeat: no trade");
  deepEqual(tradeBurst(c(T0, 10, 5), c(T0 + M, 9, 2, 0.5), 9), {
    ts: 9,
    price: 9,
    size: 0.5,
    count: 2,
    side: "down",
  }, "a new minute: its trades so far");
  equal(tradeBurst(c(T0 + M, 10, 5), c(T0, 10, 6), 9), null, "an older minute: ignored");
});
