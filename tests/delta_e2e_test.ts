/**
 * Delta messages end to end: the app in process, real sockets, SDK clients subscribed to
 * the same price channel with delta (JSON and MessagePack) and without. Every quote the
 * delta clients rebuild equals the one the plain client received whole, and they cost
 * fewer bytes on the wire.
 */
import { deepStrictEqual, ok } from "node:assert/strict";
import { RealtimeClient } from "../lib/client/mod.ts";
import type { CodecName } from "../lib/client/types.ts";
import { serveApp } from "./_app.ts";
import { waitFor } from "./_deadline.ts";
import { denoWebSocket } from "./_ws.ts";

const CHANNEL = "prices:BTC-USD";

interface Quote {
  ts: number;
  [field: string]: unknown;
}

/** An SDK client that records the quotes it delivers and the bytes it received. */
function recorder(origin: string, codec: CodecName, delta: boolean) {
  const quotes = new Map<number, Quote>();
  const wire = { frames: 0, bytes: 0 };
  let subscribed = false;
  const client = new RealtimeClient({
    url: `${origin.replace("http", "ws")}/api/ws`,
    codec,
    pingIntervalMs: 0,
    createSocket: (url, _token, protocols) => {
      const socket = denoWebSocket(url, { protocols });
      socket.addEventListener("message", (e) => {
        wire.frames++;
        wire.bytes += typeof e.data === "string"
          ? new TextEncoder().encode(e.data).byteLength
          : (e.data as ArrayBuffer).byteLength;
      });
      return socket;
    },
  });
  const sub = client.subscribe<Quote>(CHANNEL, {
    onMessage: (q) => quotes.set(q.ts, q),
    onSubscribed: () => subscribed = true,
  }, { delta });
  client.connect();
  return { client, sub, quotes, wire, subscribed: () => subscribed };
}

Deno.test({
  name: "[delta] end to end: clients with and without delta hold identical quotes",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const app = await serveApp({ env: { MARKET_TICK_MS: "50", PRICE_HEARTBEAT_MS: "100" } });
    const plain = recorder(app.origin, "json", false);
    const json = recorder(app.origin, "json", true);
    const packed = recorder(app.origin, "msgpack", true);
    const all = [plain, json, packed];
    try {
      await waitFor(() => all.every((r) => r.subscribed()), {
        timeoutMs: 10_000,
        what: "three subscriptions",
      });
      ok(json.sub.delta && packed.sub.delta && !plain.sub.delta, "delta negotiated as asked");
      await waitFor(() => all.every((r) => r.quotes.size >= 25), {
        timeoutMs: 30_000,
        what: "25 quotes on every client",
        detail: () => all.map((r) => r.quotes.size).join(" / "),
      });
      // The newest quote of the delta clients, also reached the plain one.
      const newest = Math.max(...json.quotes.keys(), ...packed.quotes.keys());
      await waitFor(() => all.every((r) => [...r.quotes.keys()].some((ts) => ts >= newest)), {
        timeoutMs: 10_000,
        what: "every client to reach the same newest quote",
      });
      for (const r of [json, packed]) {
        const common = [...r.quotes.keys()].filter((ts) => plain.quotes.has(ts));
        ok(common.length >= 20, `${common.length} quotes in common`);
        for (const ts of common) deepStrictEqual(r.quotes.get(ts), plain.quotes.get(ts));
      }
      ok(app.services.hub.metrics.deltaMessages.value() > 20, "patches were sent");
      const perFrame = (r: typeof plain) => r.wire.bytes / r.wire.frames;
      ok(perFrame(json) < perFrame(plain), `${perFrame(json)} < ${perFrame(plain)} bytes/frame`);
    } finally {
      for (const r of all) r.client.disconnect();
      await app.stop();
    }
  },
});
