/**
 * The `gateway` bench peer served through the connection guard (lib/net/guard.ts), as
 * `deno task start` serves the app (lib/app/net_guard.ts): our accept loop, the user-space
 * WebSocket for upgrades, every other request (the control endpoints `POST /publish`,
 * `GET /stats`, `POST /gc`) proxied to the guard's internal loopback `Deno.serve`.
 *
 *   PORT=0 KV_PATH=/tmp/bench.kv TOKEN_SECRET=… deno run -A --v8-flags=--expose-gc bench/peers/gateway_guarded.ts
 *
 * Prints `LISTENING <port>` once listening on 127.0.0.1. The guard's deadlines are the
 * defaults; its socket caps are lifted like the hub's (bench/peers/gateway.ts): the load
 * generators open up to 10 000 connections from one address, 250 at once.
 */
import { ConnectionGuard } from "../../lib/net/guard.ts";
import { DEFAULT_NET_LIMITS, type NetLimits } from "../../lib/net/limits.ts";
import { createNetMetrics } from "../../lib/net/metrics.ts";
import gateway, { hub } from "./gateway.ts";

const portEnv = Deno.env.get("PORT") ?? "0";
const port = Number(portEnv);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`Cannot read PORT: expected an integer from 0 to 65535, got "${portEnv}"`);
  Deno.exit(1);
}

const limits: NetLimits = {
  ...DEFAULT_NET_LIMITS,
  maxSockets: 1_000_000,
  maxSocketsPerIp: 1_000_000,
  maxPendingPerIp: 1_000_000,
};
// The gauges are read at scrape time, after `guard` exists.
const metrics = createNetMetrics(hub.metrics.registry, {
  sockets: () => guard.stats().sockets,
  pending: () => guard.stats().pending,
  partialFrameBytes: () => guard.stats().partialFrameBytes,
  descriptorsExhausted: () => (guard.stats().descriptorsExhausted ? 1 : 0),
});
const guard: ConnectionGuard = new ConnectionGuard({
  handler: (req, info) => gateway.fetch(req, info),
  limits,
  metrics,
  log: {
    info: () => {},
    warn: (msg, fields) => console.warn(msg, fields ?? ""),
    error: (msg, fields) => console.error(msg, fields ?? ""),
  },
});
const listener = Deno.listen({ hostname: "127.0.0.1", port });
guard.serve(listener).catch((err) => {
  console.error("guard failed", err);
  Deno.exit(1);
});
console.log(`LISTENING ${listener.addr.port}`);
