/**
 * The live price slice over real sockets: simulated market → KV board → watcher → hub →
 * a WebSocket client on port 0.
 */
import { equal, notEqual, ok } from "node:assert/strict";
import { loadConfig } from "../lib/app/config.ts";
import { createServices } from "../lib/app/services.ts";
import { acceptUpgrade } from "../lib/gateway/mod.ts";
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
    for (let i = 0; i < 5; i++) {
      const msg = await ws.next((f) => f.type === "message");
      equal(msg.channel, "prices:BTC-USD");
      prices.push((msg.data as { price: number }).price);
    }
    ok(new Set(prices).size > 1, `prices change over time: ${prices}`);
    notEqual(prices.at(-1), undefined);
    // A malformed frame is answered and the socket keeps streaming.
    ws.send("{broken");
    const err = await ws.next((f) => f.type === "error");
    equal((err.data as { code: string }).code, "bad_frame");
    const after = await ws.next((f) => f.type === "message");
    equal(after.channel, "prices:BTC-USD");
  } finally {
    await ws.close();
    ac.abort();
    await server.finished;
    await services.close();
  }
});
