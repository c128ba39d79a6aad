import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { createAggregator } from "./aggregate.ts";
import { createSimulatedVenues, SIM_VENUE_PROFILES } from "./sim_venues.ts";
import type { Quote } from "./types.ts";
import type { VenueEvent } from "./venues/types.ts";

const T0 = 1_700_000_000_000;
const SYMBOLS = ["BTC-USD", "ETH-USD", "SOL-USD"];
const NO_CHAOS = { outageEveryMs: 0, outlierEveryMs: 0, quietEveryMs: 0 };

function world(seed: number, chaos: Record<string, number> = NO_CHAOS) {
  let t = T0;
  const events: VenueEvent[] = [];
  const agg = createAggregator({
    symbols: SYMBOLS,
    venues: SIM_VENUE_PROFILES.map((p) => ({
      venue: p.venue,
      symbols: SYMBOLS,
      usdProxy: p.usdProxy,
    })),
    now: () => t,
  });
  const sim = createSimulatedVenues({
    symbols: SYMBOLS,
    seed,
    now: () => t,
    manual: true,
    chaos,
    onEvent(e) {
      events.push(e);
      agg.ingest(e);
    },
  });
  for (const f of sim.feeds) f.start();
  return {
    sim,
    agg,
    events,
    /** Steps every 250 ms for `ms`. */
    run(ms: number) {
      for (const end = t + ms; t < end;) {
        t += 250;
        sim.step();
      }
    },
    now: () => t,
  };
}

Deno.test("[sim venues] the same seed and clock give the same events", () => {
  const a = world(42, {});
  const b = world(42, {});
  const c = world(43, {});
  a.run(60_000);
  b.run(60_000);
  c.run(60_000);
  ok(a.events.length > 300, `a busy minute: ${a.events.length} events`);
  deepStrictEqual(a.events, b.events);
  ok(JSON.stringify(a.events) !== JSON.stringify(c.events), "another seed, another market");
});

Deno.test("[sim venues] three venues with small offsets: all used, the USDT venue flagged", () => {
  const w = world(7);
  w.run(5_000);
  const q = w.agg.evaluate("BTC-USD")!;
  equal(q.sourcesUsed, 3);
  equal(q.degraded, false);
  deepStrictEqual(Object.keys(q.venues!).sort(), ["sim-a", "sim-b", "sim-c"]);
  equal(q.venues!["sim-c"].usdProxy, true);
  ok(q.conf! / q.price < 0.001, `venues within 0.1 %: conf ${q.conf} of ${q.price}`);
  ok(q.vwap!["1m"]! > 0 && q.twap!["1m"]! > 0, "trades flow");
  const kinds = new Set(w.events.map((e) => e.kind));
  deepStrictEqual([...kinds].sort(), ["connection", "ticker", "trade"]);
});

Deno.test("[sim venues] an outlier, an outage and a quiet symbol show in the quote statuses", () => {
  const w = world(9);
  w.run(3_000);
  w.sim.outlier("sim-c", "BTC-USD", 4, 20_000);
  w.run(3_000);
  let q = w.agg.evaluate("BTC-USD")!;
  equal(q.venues!["sim-c"].status, "outlier");
  equal(q.sourcesUsed, 2);
  equal(q.degraded, false);
  w.sim.outage("sim-b", 8_000);
  w.run(1_000);
  q = w.agg.evaluate("BTC-USD")!;
  equal(q.venues!["sim-b"].status, "down");
  equal(q.sourcesUsed, 1);
  equal(q.degraded, true);
  equal(w.sim.feeds[1].health().connected, false);
  w.run(25_000);
  q = w.agg.evaluate("BTC-USD")!;
  equal(q.sourcesUsed, 3, "outage over, outlier over");
  equal(w.sim.feeds[1].health().reconnects, 1);
  w.sim.quiet("sim-a", "ETH-USD", 30_000);
  w.run(11_000);
  q = w.agg.evaluate("ETH-USD")!;
  equal(q.venues!["sim-a"].status, "stale", "older than maxAge (10 s)");
  w.run(2_000);
  deepStrictEqual(w.sim.feeds[0].health().staleSymbols, ["ETH-USD"], "reported quiet after 12 s");
  w.run(20_000);
  q = w.agg.evaluate("ETH-USD")!;
  equal(q.venues!["sim-a"].status, "used", "resumed");
  deepStrictEqual(w.sim.feeds[0].health().staleSymbols, []);
});

Deno.test("[sim venues] default chaos: within 20 simulated minutes every cue shows up", () => {
  let t = T0;
  const agg = createAggregator({ symbols: SYMBOLS, now: () => t });
  const sim = createSimulatedVenues({
    symbols: SYMBOLS,
    seed: 3,
    now: () => t,
    manual: true,
    onEvent: (e) => agg.ingest(e),
  });
  for (const f of sim.feeds) f.start();
  const seen = new Set<string>();
  let degraded = 0;
  for (let i = 0; i < 20 * 60 * 4; i++) {
    t += 250;
    sim.step();
    for (const q of agg.due() as Quote[]) {
      for (const v of Object.values(q.venues!)) seen.add(v.status);
      if (q.degraded) degraded++;
    }
  }
  deepStrictEqual([...seen].sort(), ["down", "outlier", "stale", "used"]);
  ok(degraded > 0, "some quote lost its quorum");
});

Deno.test("[sim venues] stopping a feed disconnects it; restore continues the walk", () => {
  const w = world(5);
  w.run(2_000);
  const before = w.agg.evaluate("SOL-USD")!.price;
  const stopped = w.sim.feeds[2].stop();
  equal(w.events.at(-1)!.kind, "connection");
  equal(w.sim.feeds[2].health().connected, false);
  w.run(1_000);
  equal(w.agg.evaluate("SOL-USD")!.venues!["sim-c"].status, "down");
  const other = world(99);
  other.sim.restore([{ ...w.agg.evaluate("SOL-USD")!, price: before * 2 }]);
  other.run(3_000);
  const restored = other.agg.evaluate("SOL-USD")!.price;
  ok(Math.abs(restored / (before * 2) - 1) < 0.01, `continues near ${before * 2}: ${restored}`);
  return stopped;
});
