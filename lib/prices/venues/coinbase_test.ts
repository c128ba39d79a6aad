import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { deadline, waitFor } from "../../../tests/_deadline.ts";
import { isState, startHarness, WAIT_MS } from "../../../tests/fixtures/venue_harness.ts";
import { startFakeCoinbase } from "../../../tests/fixtures/fake_venues.ts";
import type { VenueTicker, VenueTrade } from "./types.ts";

const SYMBOLS = ["BTC-USD", "ETH-USD"];

Deno.test("[coinbase] subscribes per channel at once, parses string numbers, stays up on heartbeats", async () => {
  await using h = startHarness("coinbase", {
    symbols: SYMBOLS,
    fake: { subscribeTimeoutMs: 300, heartbeatMs: 50 },
  });
  await h.waitEvent((e) => e.kind === "connection" && e.connected, "the feed to connect");
  const sent = h.fake.received().map((m) => m.json as Record<string, unknown>);
  assertEquals(sent[0], { type: "subscribe", channel: "heartbeats" });
  assertEquals(sent[1], { type: "subscribe", channel: "ticker", product_ids: SYMBOLS });
  assertEquals(sent.slice(2), [
    { type: "subscribe", channel: "market_trades", product_ids: ["BTC-USD"] },
    { type: "subscribe", channel: "market_trades", product_ids: ["ETH-USD"] },
  ]);

  h.fake.tick("BTC-USD", {
    price: 67_000.5,
    bid: 67_000.25,
    ask: 67_001,
    volume: 1234.5,
    open: 65_000,
  });
  const ticker = await h.waitEvent((e) => e.kind === "ticker", "a ticker") as VenueTicker;
  assertEquals(ticker.venue, "coinbase");
  assertEquals(ticker.symbol, "BTC-USD");
  assertEquals(ticker.price, 67_000.5);
  assertEquals(ticker.bid, 67_000.25);
  assertEquals(ticker.ask, 67_001);
  assertEquals(ticker.volume24h, 1234.5);
  assertEquals(ticker.usdProxy, false);
  assert(Math.abs(ticker.open24h! - 65_000) < 0.01, `open24h ${ticker.open24h}`);

  h.fake.trade("ETH-USD", { price: 3_400.12, size: 0.25, side: "sell" });
  const trade = await h.waitEvent((e) => e.kind === "trade", "a trade") as VenueTrade;
  assertEquals([trade.symbol, trade.price, trade.size, trade.side], [
    "ETH-USD",
    3_400.12,
    0.25,
    "sell",
  ]);
  assertEquals(typeof trade.tradeId, "string");

  // Heartbeats keep the transport alive well past the fake's 300 ms subscribe deadline
  // and the feed's silentMs (1 500), with no market data at all.
  await waitFor(() => h.fake.heartbeats() >= 40, { timeoutMs: WAIT_MS, what: "40 heartbeats" });
  assertEquals(h.fake.connections(), 1);
  const health = h.feed.health();
  assert(health.connected);
  assert(health.messages >= 40, `messages ${health.messages}`);
  assertEquals([health.gaps, health.malformed, health.reconnects], [0, 0, 0]);
});

Deno.test("[coinbase] the fake closes a socket that does not subscribe in time", async () => {
  const fake = startFakeCoinbase({ subscribeTimeoutMs: 100 });
  try {
    const socket = new WebSocket(fake.url);
    const closed = new Promise<CloseEvent>((resolve) => socket.onclose = resolve);
    const event = await deadline(closed, WAIT_MS, "the unsubscribed socket to be closed");
    assertEquals(event.reason, "no subscribe within timeout");
  } finally {
    await fake.close();
  }
});

Deno.test("[coinbase] a sequence_num gap marks every symbol stale and a ticker resubscription freshens them", async () => {
  await using h = startHarness("coinbase", { symbols: SYMBOLS, fake: { heartbeatMs: 100 } });
  h.pump(SYMBOLS);
  for (const s of SYMBOLS) await h.waitEvent(isState(s, "fresh"), `${s} fresh`);
  const from = h.mark();
  const sentBefore = h.fake.received().length;
  h.fake.skip("BTC-USD", 2);
  for (const s of SYMBOLS) {
    await h.waitEvent(isState(s, "stale", "gap"), `${s} stale (gap)`, from);
    await h.waitEvent(isState(s, "fresh", "snapshot"), `${s} fresh (snapshot)`, from);
  }
  const resent = h.fake.received().slice(sentBefore).map((m) => m.json);
  assertEquals(resent, [
    { type: "unsubscribe", channel: "ticker", product_ids: SYMBOLS },
    { type: "subscribe", channel: "ticker", product_ids: SYMBOLS },
  ]);
  assertEquals(h.feed.health().gaps, 1);
  assertEquals(h.fake.connections(), 1);
});
