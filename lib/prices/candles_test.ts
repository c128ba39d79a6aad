import { deepStrictEqual, equal } from "node:assert/strict";
import { CANDLE_SLOTS, createCandleBook, MAX_CANDLES, readCandles } from "./candles.ts";
import { candleKey } from "../kv/keys.ts";

/** 2023-11-14 22:00:00 UTC: the start of an hour. */
const H0 = 1_700_000_000_000 - (1_700_000_000_000 % 3_600_000);
const M = 60_000;

function clock(start: number) {
  let t = start;
  return { now: () => t, set: (v: number) => t = v };
}

Deno.test("[candles] trades across minute boundaries make 1 m candles and roll into the hour", async () => {
  using kv = await Deno.openKv(":memory:");
  const c = clock(H0 + 10_000);
  const book = createCandleBook({ kv, symbols: ["BTC-USD"], now: c.now });
  equal(book.add("BTC-USD", H0 + 10_000, 100, 1), "open");
  c.set(H0 + 20_000);
  book.add("BTC-USD", H0 + 20_000, 105, 2);
  book.add("BTC-USD", H0 + 15_000, 95, 1); // out of order within the minute: not the close
  c.set(H0 + M + 5_000);
  equal(book.add("BTC-USD", H0 + M + 5_000, 101, 1), "open");
  deepStrictEqual(book.latest("BTC-USD"), {
    t: H0 + M,
    o: 101,
    h: 101,
    l: 101,
    c: 101,
    v: 1,
    n: 1,
  });
  deepStrictEqual(book.latest("BTC-USD", "1h"), {
    t: H0,
    o: 100,
    h: 105,
    l: 95,
    c: 101,
    v: 5,
    n: 4,
  });
  await book.flush(true);
  c.set(H0 + 2 * M + 1);
  book.roll();
  await book.flush();
  const range = await readCandles(kv, { symbol: "BTC-USD", interval: "1m" }, c.now());
  deepStrictEqual(range.candles, [
    { t: H0, o: 100, h: 105, l: 95, c: 105, v: 4, n: 3 },
    { t: H0 + M, o: 101, h: 101, l: 101, c: 101, v: 1, n: 1 },
  ]);
  equal(range.truncated, false);
  const hours = await readCandles(kv, { symbol: "BTC-USD", interval: "1h" }, c.now());
  deepStrictEqual(hours.candles, [{ t: H0, o: 100, h: 105, l: 95, c: 101, v: 5, n: 4 }]);
});

Deno.test("[candles] a late trade merges into the previous minute and its hour; older ones are dropped", async () => {
  using kv = await Deno.openKv(":memory:");
  // The previous minute is the last of the previous hour: the late trade crosses the hour.
  const c = clock(H0 - M + 1_000);
  const book = createCandleBook({ kv, symbols: ["BTC-USD"], now: c.now });
  book.add("BTC-USD", H0 - M + 1_000, 50, 1);
  c.set(H0 + 2_000);
  book.add("BTC-USD", H0 + 2_000, 52, 1);
  equal(book.add("BTC-USD", H0 - 1_000, 60, 3), "late");
  equal(book.add("BTC-USD", H0 - 2 * M, 70, 3), "dropped", "two minutes old");
  equal(book.add("BTC-USD", H0 - M + 500, 49, 1), "late", "before the minute's first trade");
  await book.flush(true);
  const minutes = await readCandles(kv, { symbol: "BTC-USD", interval: "1m" }, c.now());
  deepStrictEqual(minutes.candles, [
    { t: H0 - M, o: 49, h: 60, l: 49, c: 60, v: 5, n: 3 },
    { t: H0, o: 52, h: 52, l: 52, c: 52, v: 1, n: 1 },
  ]);
  const hours = await readCandles(kv, { symbol: "BTC-USD", interval: "1h" }, c.now());
  deepStrictEqual(hours.candles, [
    { t: H0 - 3_600_000, o: 49, h: 60, l: 49, c: 60, v: 5, n: 3 },
    { t: H0, o: 52, h: 52, l: 52, c: 52, v: 1, n: 1 },
  ]);
  deepStrictEqual(book.stats().late, 2);
  deepStrictEqual(book.stats().dropped, 1);
});

Deno.test("[candles] the open candle is written at most every writeEveryMs, and on close", async () => {
  using kv = await Deno.openKv(":memory:");
  const c = clock(H0);
  const book = createCandleBook({ kv, symbols: ["BTC-USD"], now: c.now, writeEveryMs: 5_000 });
  for (let i = 0; i < 10; i++) {
    c.set(H0 + i * 1_000);
    book.add("BTC-USD", c.now(), 100 + i, 1);
    await book.flush();
  }
  // Writes at 0 s and 5 s: 1 m and 1 h each.
  equal(book.stats().writes, 4);
  equal(book.stats().commits, 2);
  const stored = await kv.get<{ c: number }>(
    candleKey("BTC-USD", "1m", (H0 / M) % CANDLE_SLOTS["1m"]),
  );
  equal(stored.value?.c, 105, "the open candle as of the last write");
  c.set(H0 + M);
  book.roll();
  await book.flush();
  const closed = await kv.get<{ c: number; n: number }>(
    candleKey("BTC-USD", "1m", (H0 / M) % CANDLE_SLOTS["1m"]),
  );
  equal(closed.value?.c, 109, "written on close");
  equal(closed.value?.n, 10);
});

Deno.test("[candles] a restart resumes the open candle from KV and rebuilds the hour", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/kv.sqlite`;
  const c = clock(H0 + 5 * M + 1_000);
  {
    using kv = await Deno.openKv(path);
    const book = createCandleBook({ kv, symbols: ["ETH-USD"], now: c.now, writeEveryMs: 0 });
    book.add("ETH-USD", H0 + 4 * M + 30_000, 10, 1); // late: previous minute
    book.add("ETH-USD", c.now(), 11, 2);
    c.set(H0 + 5 * M + 2_000);
    book.add("ETH-USD", c.now(), 12, 1);
    await book.flush();
  }
  c.set(H0 + 5 * M + 40_000);
  const kv = await Deno.openKv(path);
  const book = createCandleBook({ kv, symbols: ["ETH-USD"], now: c.now });
  await book.resume();
  deepStrictEqual(book.latest("ETH-USD"), {
    t: H0 + 5 * M,
    o: 11,
    h: 12,
    l: 11,
    c: 12,
    v: 3,
    n: 2,
  });
  deepStrictEqual(book.latest("ETH-USD", "1h"), { t: H0, o: 10, h: 12, l: 10, c: 12, v: 4, n: 3 });
  equal(book.add("ETH-USD", c.now(), 9, 1), "open");
  equal(book.add("ETH-USD", H0 + 4 * M + 59_000, 13, 1), "late", "the previous minute resumed too");
  deepStrictEqual(book.latest("ETH-USD"), { t: H0 + 5 * M, o: 11, h: 12, l: 9, c: 9, v: 4, n: 3 });
  await book.flush(true);
  const hours = await readCandles(kv, { symbol: "ETH-USD", interval: "1h" }, c.now());
  deepStrictEqual(hours.candles, [{ t: H0, o: 10, h: 13, l: 9, c: 9, v: 6, n: 5 }]);
  kv.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("[candles] reads are bounded: the newest MAX_CANDLES, and slots wrap around", async () => {
  using kv = await Deno.openKv(":memory:");
  const start = H0;
  const c = clock(start);
  const book = createCandleBook({ kv, symbols: ["SOL-USD"], now: c.now });
  // 1 600 minutes of one trade each: more than the 1 500 slots, so the ring wraps.
  for (let i = 0; i < 1_600; i++) {
    c.set(start + i * M);
    book.add("SOL-USD", c.now(), 100 + (i % 7), 1);
    if (i % 100 === 99) await book.flush(true);
  }
  c.set(start + 1_600 * M);
  book.roll();
  await book.flush(true);
  const all = await readCandles(kv, { symbol: "SOL-USD", interval: "1m", from: start }, c.now());
  // The window of MAX_CANDLES minutes ends at the (empty) current minute.
  equal(all.candles.length, MAX_CANDLES - 1);
  equal(all.truncated, false, "older minutes are not kept: nothing was left out");
  equal(all.candles[0].t, start + 101 * M);
  equal(all.candles.at(-1)!.t, start + 1_599 * M);
  const some = await readCandles(kv, {
    symbol: "SOL-USD",
    interval: "1m",
    from: start + 1_495 * M,
    to: start + 1_504 * M,
  }, c.now());
  deepStrictEqual(some.candles.map((x) => (x.t - start) / M), [
    1_495,
    1_496,
    1_497,
    1_498,
    1_499,
    1_500,
    1_501,
    1_502,
    1_503,
    1_504,
  ]);
  const newest = await readCandles(kv, {
    symbol: "SOL-USD",
    interval: "1m",
    from: start + 1_000 * M,
    to: start + 1_599 * M,
    limit: 10,
  }, c.now());
  deepStrictEqual(newest.candles.map((x) => (x.t - start) / M), [
    1_590,
    1_591,
    1_592,
    1_593,
    1_594,
    1_595,
    1_596,
    1_597,
    1_598,
    1_599,
  ]);
  equal(newest.truncated, true);
  const hours = await readCandles(kv, { symbol: "SOL-USD", interval: "1h" }, c.now());
  equal(hours.candles.length, 27);
  equal(hours.candles.reduce((n, h) => n + h.n, 0), 1_600);
});
