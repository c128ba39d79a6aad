import { deepStrictEqual, equal, ok } from "node:assert/strict";
import fc from "fast-check";
import { createAggregator } from "./aggregate.ts";
import { roundSig } from "./stats.ts";
import type { VenueEvent, VenueTicker, VenueTrade } from "./venues/types.ts";

const T0 = 1_700_000_000_000;

function clock(start = T0) {
  let t = start;
  return { now: () => t, set: (v: number) => t = v, advance: (ms: number) => t += ms };
}

function ticker(venue: string, price: number, at: number, extra: Partial<VenueTicker> = {}) {
  return {
    kind: "ticker",
    venue,
    symbol: "BTC-USD",
    price,
    ts: at,
    receivedAt: at,
    usdProxy: false,
    ...extra,
  } satisfies VenueTicker;
}

let nextId = 1;
function trade(
  venue: string,
  price: number,
  size: number,
  at: number,
  extra: Partial<VenueTrade> = {},
) {
  return {
    kind: "trade",
    venue,
    symbol: "BTC-USD",
    price,
    size,
    tradeId: String(nextId++),
    ts: at,
    receivedAt: at,
    usdProxy: false,
    ...extra,
  } satisfies VenueTrade;
}

function up(venue: string, at: number): VenueEvent {
  return { kind: "connection", venue, connected: true, at };
}

/** An aggregator over BTC-USD with the given venues' prices, all fresh now. */
function withPrices(prices: readonly number[], c = clock()) {
  const venues = prices.map((_, i) => `v${i}`);
  const agg = createAggregator({
    symbols: ["BTC-USD"],
    venues: venues.map((venue) => ({ venue, symbols: ["BTC-USD"] })),
    now: c.now,
  });
  prices.forEach((p, i) => {
    agg.ingest(up(venues[i], c.now()));
    agg.ingest(ticker(venues[i], p, c.now()));
  });
  return agg;
}

const price = fc.double({ min: 0.0001, max: 1e6, noNaN: true, noDefaultInfinity: true });
const TOL = 1e-7;

Deno.test("[aggregate] property: the price lies within the fresh venues' range", () => {
  fc.assert(
    fc.property(fc.array(price, { minLength: 1, maxLength: 7 }), (prices) => {
      const q = withPrices(prices).evaluate("BTC-USD")!;
      const lo = Math.min(...prices) * (1 - TOL);
      const hi = Math.max(...prices) * (1 + TOL);
      return q.price >= lo && q.price <= hi;
    }),
  );
});

Deno.test("[aggregate] property: one venue 100× off moves the price by no more than the others' spread", () => {
  fc.assert(
    fc.property(
      price,
      fc.array(fc.double({ min: -0.05, max: 0.05, noNaN: true }), { minLength: 2, maxLength: 6 }),
      fc.boolean(),
      fc.nat(),
      (base, offsets, high, at) => {
        const honest = offsets.map((o) => base * (1 + o));
        const rogue = honest[0] * (high ? 100 : 0.01);
        const all = [...honest];
        all.splice(at % (honest.length + 1), 0, rogue);
        const q = withPrices(all).evaluate("BTC-USD")!;
        const sorted = [...honest].sort((a, b) => a - b);
        const mid = sorted.length % 2
          ? sorted[sorted.length >> 1]
          : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        const spread = sorted[sorted.length - 1] - sorted[0];
        return Math.abs(q.price - mid) <= spread + mid * TOL;
      },
    ),
  );
});

Deno.test("[aggregate] property: a stale venue is never used", () => {
  const venueArb = fc.record({
    price: fc.double({ min: 90, max: 110, noNaN: true }),
    ageMs: fc.integer({ min: 0, max: 30_000 }),
    marked: fc.boolean(),
    connected: fc.boolean(),
  });
  fc.assert(
    fc.property(fc.array(venueArb, { minLength: 1, maxLength: 6 }), (venues) => {
      const c = clock();
      const agg = createAggregator({
        symbols: ["BTC-USD"],
        venues: venues.map((_, i) => ({ venue: `v${i}`, symbols: ["BTC-USD"] })),
        now: c.now,
        maxAgeMs: 10_000,
      });
      const end = T0 + 30_000;
      venues.forEach((v, i) => {
        const at = end - v.ageMs;
        agg.ingest(up(`v${i}`, at));
        agg.ingest(ticker(`v${i}`, v.price, at));
        if (v.marked) {
          agg.ingest({
            kind: "symbol",
            venue: `v${i}`,
            symbol: "BTC-USD",
            state: "stale",
            reason: "gap",
            at,
          });
        }
        if (!v.connected) agg.ingest({ kind: "connection", venue: `v${i}`, connected: false, at });
      });
      c.set(end);
      const q = agg.evaluate("BTC-USD");
      const fresh = venues.map((v, i) => ({ ...v, name: `v${i}` }))
        .filter((v) => v.ageMs <= 10_000 && !v.marked && v.connected);
      if (fresh.length === 0) {
        return q === null ? venues.every((v) => !v.connected) : q.stale && q.sourcesUsed === 0;
      }
      for (const v of venues.map((v, i) => ({ ...v, name: `v${i}` }))) {
        const isFresh = fresh.some((f) => f.name === v.name);
        if (!isFresh && q!.sources.includes(v.name)) return false;
        if (!isFresh && q!.venues![v.name].status === "used") return false;
        if (!v.connected && q!.venues![v.name].status !== "down") return false;
      }
      const lo = Math.min(...fresh.map((f) => f.price)) * (1 - TOL);
      const hi = Math.max(...fresh.map((f) => f.price)) * (1 + TOL);
      return q!.price >= lo && q!.price <= hi;
    }),
  );
});

Deno.test("[aggregate] property: fewer than two used venues sets degraded", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.double({ min: 99.9, max: 100.1, noNaN: true }), fc.boolean()), {
        minLength: 1,
        maxLength: 5,
      }),
      (venues) => {
        const c = clock();
        const agg = createAggregator({
          symbols: ["BTC-USD"],
          venues: venues.map((_, i) => ({ venue: `v${i}`, symbols: ["BTC-USD"] })),
          now: c.now,
        });
        venues.forEach(([p, fresh], i) => {
          const at = fresh ? T0 + 20_000 : T0;
          agg.ingest(up(`v${i}`, at));
          agg.ingest(ticker(`v${i}`, p, at));
        });
        c.set(T0 + 25_000);
        const q = agg.evaluate("BTC-USD")!;
        const freshCount = venues.filter(([, f]) => f).length;
        equal(q.sourcesUsed, freshCount);
        equal(q.degraded, freshCount < 2);
        equal(q.stale, freshCount === 0);
        return true;
      },
    ),
  );
});

Deno.test("[aggregate] the median, conf, statuses and the USD-proxy flag", () => {
  const c = clock();
  const agg = createAggregator({ symbols: ["BTC-USD"], now: c.now });
  for (const v of ["a", "b", "c", "d"]) agg.ingest(up(v, T0));
  agg.ingest(ticker("a", 100, T0, { bid: 99.9, ask: 100.1 }));
  agg.ingest(ticker("b", 102, T0, { bid: 101.9, ask: 102.1 }));
  agg.ingest(ticker("c", 101, T0, { usdProxy: true }));
  agg.ingest(ticker("d", 130, T0));
  const q = agg.evaluate("BTC-USD")!;
  equal(q.price, 101);
  equal(q.conf, 1);
  equal(q.sourcesUsed, 3);
  equal(q.degraded, false);
  equal(q.stale, false);
  deepStrictEqual(q.sources, ["a", "b", "c"]);
  equal(q.venues!.d.status, "outlier");
  equal(q.venues!.c.usdProxy, true);
  equal(q.venues!.a.usdProxy, undefined);
  equal(q.bid, 100.9);
  equal(q.ask, 101.1);
  equal(q.venues!.a.ageMs, 0);
});

Deno.test("[aggregate] ages, marks and disconnects make venues stale or down; data clears a quiet mark", () => {
  const c = clock();
  const agg = createAggregator({ symbols: ["BTC-USD"], now: c.now, maxAgeMs: 10_000 });
  for (const v of ["a", "b", "c"]) {
    agg.ingest(up(v, T0));
    agg.ingest(ticker(v, 100, T0));
  }
  c.advance(5_000);
  agg.ingest(ticker("a", 100.5, c.now()));
  agg.ingest(ticker("b", 100.4, c.now()));
  agg.ingest({
    kind: "symbol",
    venue: "b",
    symbol: "BTC-USD",
    state: "stale",
    reason: "quiet",
    at: c.now(),
  });
  c.advance(6_000);
  let q = agg.evaluate("BTC-USD")!;
  equal(q.venues!.c.status, "stale", "c older than maxAge");
  equal(q.venues!.b.status, "stale", "b marked quiet");
  equal(q.venues!.a.status, "used");
  equal(q.venues!.c.ageMs, 11_000);
  equal(q.degraded, true);
  equal(q.price, 100.5);
  agg.ingest(ticker("b", 100.6, c.now()));
  agg.ingest({ kind: "connection", venue: "a", connected: false, at: c.now() });
  q = agg.evaluate("BTC-USD")!;
  equal(q.venues!.b.status, "used", "new data clears a quiet mark");
  equal(q.venues!.a.status, "down");
  equal(q.price, 100.6);
  // A gap mark waits for the adapter's fresh event.
  agg.ingest({
    kind: "symbol",
    venue: "b",
    symbol: "BTC-USD",
    state: "stale",
    reason: "gap",
    at: c.now(),
  });
  agg.ingest(ticker("b", 100.7, c.now() + 1));
  q = agg.evaluate("BTC-USD")!;
  equal(q.venues!.b.status, "stale");
  equal(q.stale, true, "no fresh venue left");
  equal(q.price, 100.6, "the last known price is kept");
  agg.ingest({
    kind: "symbol",
    venue: "b",
    symbol: "BTC-USD",
    state: "fresh",
    reason: "snapshot",
    at: c.now(),
  });
  q = agg.evaluate("BTC-USD")!;
  equal(q.stale, false);
  equal(q.price, 100.7);
});

Deno.test("[aggregate] two venues that disagree: the one nearer the last price is kept, degraded", () => {
  const c = clock();
  const agg = createAggregator({ symbols: ["BTC-USD"], now: c.now });
  for (const v of ["a", "b", "c"]) {
    agg.ingest(up(v, T0));
    agg.ingest(ticker(v, 100, T0));
  }
  equal(agg.evaluate("BTC-USD")!.price, 100);
  agg.ingest({ kind: "connection", venue: "c", connected: false, at: T0 });
  agg.ingest(ticker("b", 10_000, T0 + 1));
  const q = agg.evaluate("BTC-USD")!;
  equal(q.price, 100);
  equal(q.venues!.b.status, "outlier");
  equal(q.degraded, true);
  // With no price to compare against, both are used but the quote is degraded.
  const fresh = withPrices([100, 10_000]).evaluate("BTC-USD")!;
  equal(fresh.sourcesUsed, 2);
  equal(fresh.degraded, true);
});

Deno.test("[aggregate] VWAP and TWAP over 1 m / 5 m / 1 h from trades", () => {
  const c = clock(T0 - (T0 % 60_000));
  const start = c.now();
  const agg = createAggregator({ symbols: ["BTC-USD"], now: c.now, maxAgeMs: 3_600_000 });
  agg.ingest(up("a", start));
  // Ten minutes ago: 2 @ 90. Then 1 @ 100 at -60 s… the last minute: 1 @ 100, 3 @ 104.
  ok(agg.ingest(trade("a", 90, 2, start)));
  c.set(start + 540_000);
  ok(agg.ingest(trade("a", 100, 1, c.now())));
  c.set(start + 570_000);
  ok(agg.ingest(trade("a", 104, 3, c.now())));
  c.set(start + 600_000);
  const q = agg.evaluate("BTC-USD")!;
  // 1 m is (now - 60 s, now]: only the trade at -30 s.
  equal(q.vwap!["1m"], 104);
  // 5 m: the trades at -60 s and -30 s; (100 + 312) / 4 = 103.
  equal(q.vwap!["5m"], 103);
  // 1 h: all three: (180 + 100 + 312) / 6.
  equal(q.vwap!["1h"], roundSig((180 + 100 + 312) / 6));
  // TWAP 1 m: 100 for 29 s (the 1 s bucket at -60 s is outside the window), 104 for 30 s.
  ok(Math.abs(q.twap!["1m"]! - 102) < 0.1, `twap 1m ${q.twap!["1m"]}`);
  // TWAP 1 h: 90 for 540 s, 100 for 30 s, 104 for 30 s.
  equal(q.twap!["1h"], roundSig((90 * 540 + 100 * 30 + 104 * 30) / 600));
  equal(q.price, 104);
});

Deno.test("[aggregate] rolling 24 h: seeded from tickers while history is short, then from trades", () => {
  const c = clock(T0 - (T0 % 60_000));
  const start = c.now();
  const agg = createAggregator({ symbols: ["BTC-USD"], now: c.now, maxAgeMs: 3_600_000 });
  for (const v of ["a", "b", "c"]) agg.ingest(up(v, start));
  const seed = { open24h: 90, high24h: 120, low24h: 80, volume24h: 1_000 };
  agg.ingest(ticker("a", 100, start, seed));
  agg.ingest(ticker("b", 100, start, { ...seed, open24h: 92, volume24h: 2_000 }));
  agg.ingest(ticker("c", 100, start, { ...seed, open24h: 91, volume24h: 500 }));
  let q = agg.evaluate("BTC-USD")!;
  equal(q.open24h, 91, "median of the venues' opens");
  equal(q.high24h, 120);
  equal(q.low24h, 80);
  equal(q.volume24h, 3_500, "the venues' volumes add up");
  equal(q.change24hPct, Math.round((100 / 91 - 1) * 10_000) / 100);
  // After a full day of trades the tickers no longer count.
  for (let m = 0; m <= 24 * 60; m += 30) {
    c.set(start + m * 60_000);
    agg.ingest(trade("a", m === 12 * 60 ? 100.4 : 100, 1, c.now()));
    agg.ingest(ticker("a", 100, c.now(), seed));
    agg.ingest(ticker("b", 100, c.now(), seed));
    agg.ingest(ticker("c", 100, c.now(), seed));
  }
  c.set(start + 24 * 60 * 60_000 + 30_000);
  q = agg.evaluate("BTC-USD")!;
  equal(q.high24h, 100.4);
  equal(q.low24h, 100);
  equal(q.open24h, 100);
  equal(q.volume24h, 48, "one trade every 30 min over 24 h, the first expired");
});

Deno.test("[aggregate] publish on deviation, on a state change, and on the heartbeat", () => {
  const c = clock();
  const agg = createAggregator({
    symbols: ["BTC-USD"],
    now: c.now,
    deviationPct: 0.01,
    heartbeatMs: 1_000,
  });
  for (const v of ["a", "b"]) {
    agg.ingest(up(v, T0));
    agg.ingest(ticker(v, 10_000, T0));
  }
  equal(agg.due().length, 1, "the first quote");
  c.advance(100);
  agg.ingest(ticker("a", 10_000.5, c.now()));
  agg.ingest(ticker("b", 10_000.5, c.now()));
  equal(agg.due().length, 0, "0.005 % is below the threshold");
  c.advance(100);
  agg.ingest(ticker("a", 10_001, c.now()));
  agg.ingest(ticker("b", 10_001, c.now()));
  const moved = agg.due();
  equal(moved.length, 1, "0.01 % is due");
  equal(moved[0].price, 10_001);
  c.advance(100);
  equal(agg.due().length, 0);
  agg.ingest({ kind: "connection", venue: "b", connected: false, at: c.now() });
  const changed = agg.due();
  equal(changed.length, 1, "a venue going down is due at once");
  equal(changed[0].sourcesUsed, 1);
  c.advance(500);
  agg.ingest(ticker("a", 10_001, c.now()));
  equal(agg.due().length, 0);
  c.advance(500);
  agg.ingest(ticker("a", 10_001, c.now()));
  equal(agg.due().length, 1, "the heartbeat");
});

Deno.test("[aggregate] duplicate, rogue and unknown-symbol trades do not count", () => {
  const c = clock();
  const agg = createAggregator({ symbols: ["BTC-USD"], now: c.now });
  for (const v of ["a", "b", "c"]) {
    agg.ingest(up(v, T0));
    agg.ingest(ticker(v, 100, T0));
  }
  agg.evaluate("BTC-USD");
  const t = trade("a", 100, 1, T0);
  equal(agg.ingest(t), true);
  equal(agg.ingest({ ...t }), false, "same id again");
  equal(agg.ingest(trade("b", 10_000, 1, T0)), false, "outside the band");
  equal(agg.ingest(trade("a", 100, 1, T0, { symbol: "ETH-USD" })), false);
  equal(agg.ingest(trade("a", 100, 0, T0)), false, "size 0");
  agg.ingest(ticker("b", 100, T0 + 1));
  agg.ingest(ticker("c", 105, T0));
  agg.evaluate("BTC-USD");
  equal(agg.status("c", "BTC-USD"), "outlier");
  equal(agg.ingest(trade("c", 105, 1, T0)), false, "from a venue flagged as outlier");
  deepStrictEqual(agg.stats(), {
    events: 14,
    trades: 5,
    duplicateTrades: 1,
    rejectedTrades: 3,
    ignored: 1,
  });
});

Deno.test("[aggregate] restore: the last known price and 24 h figures until a venue speaks", () => {
  const c = clock();
  const agg = createAggregator({ symbols: ["BTC-USD", "ETH-USD"], now: c.now });
  equal(agg.evaluate("BTC-USD"), null, "nothing known yet");
  agg.restore([{
    symbol: "BTC-USD",
    price: 100,
    bid: 99,
    ask: 101,
    open24h: 95,
    change24hPct: 5.26,
    volume24h: 10,
    sources: ["x"],
    ts: T0 - 1_000,
    high24h: 110,
    low24h: 90,
  }]);
  const q = agg.evaluate("BTC-USD")!;
  equal(q.price, 100);
  equal(q.stale, true);
  equal(q.open24h, 95);
  equal(q.high24h, 110);
  equal(q.volume24h, 10);
  deepStrictEqual(agg.due().map((d) => d.symbol), ["BTC-USD"]);
});

Deno.test("[aggregate] a trade that puts its venue off the others is left out at once", () => {
  const c = clock();
  const agg = createAggregator({ symbols: ["BTC-USD"], now: c.now });
  for (const v of ["a", "b", "c"]) {
    agg.ingest(up(v, T0));
    agg.ingest(ticker(v, 100, T0));
  }
  equal(agg.ingest(trade("a", 100.2, 1, T0)), true, "within the floor");
  equal(agg.ingest(trade("a", 104, 1, T0)), false, "4 % off the other two");
  equal(agg.status("a", "BTC-USD"), "outlier");
  equal(agg.ingest(trade("b", 100.1, 1, T0)), true);
  equal(agg.evaluate("BTC-USD")!.vwap!["1m"], roundSig((100.2 + 100.1) / 2));
});
