import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { waitFor } from "../../../tests/_deadline.ts";
import {
  type Harness,
  isState,
  startHarness,
  WAIT_MS,
} from "../../../tests/fixtures/venue_harness.ts";
import { binanceStreamUrl } from "./binance.ts";
import type { VenueTicker, VenueTrade } from "./types.ts";

const SYMBOLS = ["BTC-USD", "ETH-USD"];

Deno.test("[binance] combined-stream URL under the configured base", () => {
  assertEquals(
    binanceStreamUrl("wss://stream.binance.com:9443", ["btcusdt", "ethusdt"]),
    "wss://stream.binance.com:9443/stream?streams=btcusdt@ticker/btcusdt@aggTrade/btcusdt@bookTicker/" +
      "ethusdt@ticker/ethusdt@aggTrade/ethusdt@bookTicker",
  );
  assertEquals(
    binanceStreamUrl("ws://127.0.0.1:9/prefix/stream/", ["solusdt"]),
    "ws://127.0.0.1:9/prefix/stream?streams=solusdt@ticker/solusdt@aggTrade/solusdt@bookTicker",
  );
});

Deno.test("[binance] streams parse string numbers, USDT is flagged as a USD proxy", async () => {
  await using h = startHarness("binance", { symbols: SYMBOLS });
  await waitFor(() => h.fake.openSockets() === 1, { timeoutMs: WAIT_MS, what: "the socket" });
  h.fake.tick("BTC-USD", {
    price: 67_000.5,
    bid: 67_000.25,
    ask: 67_001,
    volume: 12.5,
    open: 66_000,
  });
  const ticker = await h.waitEvent((e) => e.kind === "ticker", "a ticker") as VenueTicker;
  assertEquals(
    [ticker.symbol, ticker.price, ticker.bid, ticker.ask, ticker.open24h, ticker.volume24h],
    ["BTC-USD", 67_000.5, 67_000.25, 67_001, 66_000, 12.5],
  );
  assertEquals(ticker.usdProxy, true);
  await h.waitEvent(
    isState("BTC-USD", "fresh", "snapshot"),
    "BTC-USD fresh after its first @ticker",
  );
  h.fake.trade("ETH-USD", { price: 3_400.12, size: 0.25, side: "sell" });
  h.fake.trade("ETH-USD", { price: 3_400.2, size: 1, side: "buy" });
  await waitFor(() => h.events.filter((e) => e.kind === "trade").length >= 2, {
    timeoutMs: WAIT_MS,
    what: "two trades",
  });
  const trades = h.events.filter((e): e is VenueTrade => e.kind === "trade");
  assertEquals(trades.map((t) => [t.price, t.size, t.side, t.usdProxy]), [
    [3_400.12, 0.25, "sell", true],
    [3_400.2, 1, "buy", true],
  ]);
  assertEquals(Number(trades[1].tradeId), Number(trades[0].tradeId) + 1);
  // A bid/ask move arrives through @bookTicker as a ticker at the last price.
  h.fake.tick("BTC-USD", { price: 67_000.5, bid: 67_000.4, ask: 67_000.9 });
  await h.waitEvent(
    (e) => e.kind === "ticker" && e.bid === 67_000.4 && e.ask === 67_000.9,
    "the new bid/ask",
  );
  assert(h.feed.health().usdProxy);
  assertEquals(h.fake.subscribed(), SYMBOLS);
});

Deno.test("[binance] an aggTrade id gap resubscribes the symbol, under 5 messages per second", async () => {
  await using h = startHarness("binance", { symbols: SYMBOLS });
  h.pump(SYMBOLS);
  for (const s of SYMBOLS) await h.waitEvent(isState(s, "fresh"), `${s} fresh`);
  const from = h.mark();
  h.fake.skip("ETH-USD", 3);
  await h.waitEvent(isState("ETH-USD", "stale", "gap"), "ETH-USD stale (gap)", from);
  await h.waitEvent(isState("ETH-USD", "fresh", "snapshot"), "ETH-USD fresh (snapshot)", from);
  const requests = h.fake.received().map((m) => m.json as { method: string; params: string[] });
  assertEquals(requests.map((r) => [r.method, r.params]), [
    ["UNSUBSCRIBE", ["ethusdt@ticker", "ethusdt@aggTrade", "ethusdt@bookTicker"]],
    ["SUBSCRIBE", ["ethusdt@ticker", "ethusdt@aggTrade", "ethusdt@bookTicker"]],
  ]);
  assertEquals(h.states("BTC-USD", from), [], "BTC-USD is not touched");
  assertEquals(h.feed.health().gaps, 1);
  assertEquals(h.fake.rateViolations(), 0);
  assertEquals(h.fake.connections(), 1);
});

/** Every trade id of `symbol` emitted, in order. */
function tradeIds(h: Harness, symbol: string): number[] {
  return h.events.filter((e): e is VenueTrade => e.kind === "trade" && e.symbol === symbol)
    .map((t) => Number(t.tradeId));
}

function assertConsecutive(ids: number[], symbol: string): void {
  assert(ids.length > 10, `${symbol}: only ${ids.length} trades`);
  for (let i = 1; i < ids.length; i++) {
    assertEquals(ids[i], ids[i - 1] + 1, `${symbol}: trade ${ids[i - 1]} followed by ${ids[i]}`);
  }
}

async function assertRotationLossless(h: Harness, stopPump: () => void): Promise<void> {
  // Let trades flow on the new connection alone for a while, then stop and settle.
  const after = tradeIds(h, "BTC-USD").length;
  await waitFor(() => tradeIds(h, "BTC-USD").length >= after + 10, {
    timeoutMs: WAIT_MS,
    what: "trades after the rotation",
  });
  stopPump();
  const expected = Math.max(...tradeIds(h, "BTC-USD"));
  for (const s of SYMBOLS) assertConsecutive(tradeIds(h, s), s);
  assertEquals(tradeIds(h, "BTC-USD").at(-1), expected);
  const connections = h.events.filter((e) => e.kind === "connection");
  assertEquals(connections.length, 1, "one connection event (up), never down");
  const health = h.feed.health();
  assertEquals([health.gaps, health.reconnects, health.connected], [0, 0, true]);
  assertEquals(h.states("BTC-USD").filter((e) => e.state === "stale"), []);
}

Deno.test("[binance] serverShutdown: make-before-break, no trade lost or repeated", async () => {
  // The old socket lags 150 ms behind after the announcement: the new one runs ahead, and
  // its trades must wait for the old one's to come in order.
  await using h = startHarness("binance", {
    symbols: SYMBOLS,
    fake: { shutdownGraceMs: 600, shutdownLagMs: 150 },
  });
  const stopPump = h.pump(SYMBOLS, { everyMs: 20 });
  await waitFor(() => tradeIds(h, "BTC-USD").length >= 10, {
    timeoutMs: WAIT_MS,
    what: "10 trades",
  });
  h.fake.serverShutdown();
  await waitFor(() => h.fake.connections() === 2 && h.fake.openSockets() === 1, {
    timeoutMs: WAIT_MS,
    what: "the new connection to replace the old one",
    detail: () => `connections ${h.fake.connections()}, open ${h.fake.openSockets()}`,
  });
  assertEquals(h.fake.openIds(), [2]);
  await assertRotationLossless(h, stopPump);
  // Both sockets carried some of the same trades: the overlap was real, and de-duplicated.
  const first = new Set(h.fake.tradeIdsSent(1));
  assert(h.fake.tradeIdsSent(2).some((id) => first.has(id)), "the two connections overlapped");
});

Deno.test("[binance] rotates before the 24 h cut (rotateAfterMs), losslessly", async () => {
  await using h = startHarness("binance", { symbols: SYMBOLS, feed: { rotateAfterMs: 300 } });
  const stopPump = h.pump(SYMBOLS, { everyMs: 20 });
  await waitFor(() => h.fake.connections() >= 2 && h.fake.openSockets() === 1, {
    timeoutMs: WAIT_MS,
    what: "a scheduled rotation",
  });
  await assertRotationLossless(h, stopPump);
});

Deno.test("[binance] a silent transport is replaced (no heartbeat channel: data is the heartbeat)", async () => {
  await using h = startHarness("binance", { symbols: SYMBOLS });
  const stopPump = h.pump(SYMBOLS);
  await h.waitEvent((e) => e.kind === "connection" && e.connected, "the feed to connect");
  stopPump();
  const from = h.mark();
  await h.waitEvent(
    (e) => e.kind === "connection" && !e.connected && /silent/.test(e.reason ?? ""),
    "the feed to drop the silent socket",
    from,
  );
  for (const s of SYMBOLS) {
    await h.waitEvent(isState(s, "stale", "disconnected"), `${s} stale`, from);
  }
  h.pump(SYMBOLS);
  await h.waitEvent((e) => e.kind === "connection" && e.connected, "the feed to reconnect", from);
  assertEquals(h.feed.health().reconnects, 1);
});

Deno.test("[binance] the server's ping frames are answered (by the runtime's WebSocket)", async () => {
  // Deno's idleTimeout: a ping every second, the socket closed if no pong comes within 1 s.
  await using h = startHarness("binance", { symbols: SYMBOLS, fake: { pingSeconds: 1 } });
  h.pump(SYMBOLS);
  const first = await h.waitEvent((e) => e.kind === "ticker", "a first ticker") as VenueTicker;
  await h.waitEvent(
    (e) => e.kind === "ticker" && e.receivedAt - first.receivedAt >= 2_500,
    "a ticker 2.5 s later (two ping rounds)",
  );
  assertEquals(h.fake.connections(), 1);
  assertEquals(h.feed.health().reconnects, 0);
});
