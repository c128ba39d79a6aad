import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { waitFor } from "../../../tests/_deadline.ts";
import {
  FAST_TIMING,
  isState,
  startHarness,
  WAIT_MS,
} from "../../../tests/fixtures/venue_harness.ts";
import type { VenueTicker, VenueTrade } from "./types.ts";

const SYMBOLS = ["BTC-USD", "ETH-USD"];
const PAIRS = ["BTC/USD", "ETH/USD"];

Deno.test("[kraken] subscribes ticker and trade with snapshots; snapshot data makes pairs fresh", async () => {
  await using h = startHarness("kraken", { symbols: SYMBOLS, fake: { heartbeatMs: 50 } });
  // Data that exists before we subscribe arrives as the subscription's snapshot.
  h.fake.trade("BTC-USD", { price: 67_000.5, size: 0.1, side: "sell" });
  h.fake.tick("BTC-USD", {
    price: 67_000.5,
    bid: 67_000.1,
    ask: 67_000.9,
    volume: 42,
    open: 66_000,
  });
  await h.waitEvent((e) => e.kind === "connection" && e.connected, "the feed to connect");
  const sent = h.fake.received().map((m) => m.json as { method: string; params: unknown });
  assertEquals(sent.map((m) => [m.method, m.params]), [
    ["subscribe", { channel: "ticker", symbol: PAIRS, snapshot: true }],
    ["subscribe", { channel: "trade", symbol: PAIRS, snapshot: true }],
  ]);
  await h.waitEvent(isState("BTC-USD", "fresh", "snapshot"), "BTC-USD fresh (snapshot)");
  const ticker = h.events.find((e) => e.kind === "ticker") as VenueTicker;
  assertEquals(
    [ticker.price, ticker.bid, ticker.ask, ticker.volume24h, ticker.open24h, ticker.usdProxy],
    [67_000.5, 67_000.1, 67_000.9, 42, 66_000, false],
  );
  const trade = await h.waitEvent((e) => e.kind === "trade", "the snapshot trade") as VenueTrade;
  assertEquals([trade.price, trade.size, trade.side], [67_000.5, 0.1, "sell"]);

  // Heartbeats alone keep the transport up past silentMs (1 500 ms).
  await waitFor(() => h.fake.heartbeats() >= 40, { timeoutMs: WAIT_MS, what: "40 heartbeats" });
  assertEquals(h.fake.connections(), 1);
  assertEquals(h.feed.health().connected, true);
});

Deno.test("[kraken] a quiet connection is probed with {method: ping} and kept", async () => {
  await using h = startHarness("kraken", {
    symbols: SYMBOLS,
    fake: { heartbeatMs: 0 },
    // Room for the 2-per-second throttle: the first ping waits for the subscriptions' window.
    feed: { timing: { ...FAST_TIMING, silentMs: 1_600 } },
  });
  await h.waitEvent((e) => e.kind === "connection" && e.connected, "the feed to connect");
  await waitFor(
    () =>
      h.fake.received().filter((m) => (m.json as { method?: string }).method === "ping").length >=
        3,
    { timeoutMs: WAIT_MS, what: "three pings" },
  );
  assertEquals(h.fake.connections(), 1, "each pong kept the connection");
  assertEquals(h.events.filter((e) => e.kind === "connection").length, 1);
});

Deno.test("[kraken] a trade_id gap resubscribes the pair with a snapshot", async () => {
  await using h = startHarness("kraken", { symbols: SYMBOLS });
  h.pump(SYMBOLS);
  for (const s of SYMBOLS) await h.waitEvent(isState(s, "fresh"), `${s} fresh`);
  const from = h.mark();
  const sentBefore = h.fake.received().length;
  h.fake.skip("BTC-USD", 2);
  await h.waitEvent(isState("BTC-USD", "stale", "gap"), "BTC-USD stale (gap)", from);
  await h.waitEvent(isState("BTC-USD", "fresh", "snapshot"), "BTC-USD fresh (snapshot)", from);
  const resent = h.fake.received().slice(sentBefore).map((m) => {
    const { method, params } = m.json as { method: string; params: unknown };
    return [method, params];
  });
  assertEquals(resent, [
    ["unsubscribe", { channel: "ticker", symbol: ["BTC/USD"] }],
    ["unsubscribe", { channel: "trade", symbol: ["BTC/USD"] }],
    ["subscribe", { channel: "ticker", symbol: ["BTC/USD"], snapshot: true }],
    ["subscribe", { channel: "trade", symbol: ["BTC/USD"], snapshot: true }],
  ]);
  assertEquals(h.states("ETH-USD", from), [], "ETH-USD is not touched");
  // The trade snapshot re-delivers recent trades: none is emitted twice.
  const ids = h.events.filter((e): e is VenueTrade => e.kind === "trade" && e.symbol === "BTC-USD")
    .map((t) => t.tradeId);
  assertEquals(new Set(ids).size, ids.length);
  assertEquals(h.feed.health().gaps, 1);
});

Deno.test("[kraken] a pair the venue refuses is logged; the others flow", async () => {
  await using h = startHarness("kraken", {
    symbols: SYMBOLS,
    fake: { symbols: ["BTC-USD"] },
  });
  h.pump(["BTC-USD"]);
  await h.waitEvent(isState("BTC-USD", "fresh"), "BTC-USD fresh");
  await waitFor(() => h.warnings.find((w) => w.msg === "Kraken refused a request"), {
    timeoutMs: WAIT_MS,
    what: "the refusal to be logged",
  });
  const refusal = h.warnings.find((w) => w.msg === "Kraken refused a request")!;
  assert(String(refusal.fields?.error).includes("ETH/USD"), JSON.stringify(refusal));
  assertEquals(h.feed.health().staleSymbols, ["ETH-USD"]);
  assertEquals(h.feed.health().malformed, 0);
});
