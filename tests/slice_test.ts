/**
 * The live price slice over real sockets: simulated market → KV board → watcher → hub →
 * a WebSocket client on port 0.
 */
import { equal, ok } from "node:assert/strict";
import { loadConfig } from "../lib/app/config.ts";
import { createServices } from "../lib/app/services.ts";
import { acceptUpgrade } from "../lib/gateway/mod.ts";
import { deadline } from "./_deadline.ts";
import { openSocket } from "./_ws.ts";

Deno.test("[slice] a real socket receives live price updates that change over time", async () => {
  const services = await createServices(
    loadConfig({
      get: (n) =>
        ({
          KV_PATH: ":memory:",
          MARKET_TICK_MS: "20",
          MARKET_SEED: "5",
          LOG_LEVEL: "error",
          PBKDF2_ITERATIONS: "1000",
          DEMO_PASSWORD: "demo-password",
        } as Record<string, string>)[n],
    }),
  );
  const ac = new AbortController();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", signal: ac.signal, onListen() {} },
    (req, info) => acceptUpgrade(req, info.remoteAddr.hostname, services.hub, services.admit),
  );
  const ws = await openSocket(`ws://127.0.0.1:${server.addr.port}/`);
  try {
    const hello = await ws.next();
    equal(hello.type, "connected");
    ws.send({ type: "subscribe", id: "1", channel: "prices:BTC-USD" });
    const subscribed = await ws.next((f) => f.type === "subscribed");
    const snapshot = (subscribed.data as { snapshot: { symbol: string; price: number } }).snapshot;
    equal(snapshot.symbol, "BTC-USD");
    ok(snapshot.price > 0);
    const prices: number[] = [];
    const offsets: number[] = [];
    for (let i = 0; i < 5; i++) {
      const msg = await ws.next((f) => f.type === "message");
      equal(msg.channel, "prices:BTC-USD");
      equal((msg.data as { symbol: string }).symbol, "BTC-USD");
      prices.push((msg.data as { price: number }).price);
      offsets.push(msg.offset as number);
    }
    ok(new Set(prices).size > 1, `prices change over time: ${prices}`);
    for (const price of prices) {
      // A simulated tick moves a price by a fraction of a percent, never to 0 or NaN.
      ok(Math.abs(price / snapshot.price - 1) < 0.05, `${price} near ${snapshot.price}`);
    }
    ok(offsets.every((o, i) => i === 0 || o > offsets[i - 1]), `offsets grow: ${offsets}`);
    // A malformed frame is answered and the socket keeps streaming.
    ws.send("{broken");
    const err = await ws.next((f) => f.type === "error");
    equal((err.data as { code: string }).code, "bad_frame");
    const after = await ws.next((f) => f.type === "message");
    equal(after.channel, "prices:BTC-USD");
  } finally {
    await ws.close();
    ac.abort();
    await deadline(server.finished, 10_000, "the server to finish");
    await deadline(services.close(), 10_000, "the services to close");
  }
});
