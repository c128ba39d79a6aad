/**
 * Our gateway as a benchmark peer: the real stack — KV bus (offsets, history, group
 * commit, cross-isolate watch), hub, admission with JWT authentication, protocol v1 — on a
 * `bench` namespace, behind the same control contract as the other peers
 * (bench/peers/README.md): `POST /publish`, `GET /stats`, `POST /gc`.
 *
 *   KV_PATH=/tmp/bench.kv TOKEN_SECRET=… deno serve -A [--parallel] --port 0 bench/peers/gateway.ts
 *
 * The WebSocket endpoint is `/ws`, authenticated with `Authorization: Bearer <jwt>` (HS256,
 * audience and issuer `realtime`, signed with `TOKEN_SECRET`) as real clients do.
 */
import process from "node:process";
import { createAuth } from "../../lib/auth/mod.ts";
import { openKv } from "../../lib/bus/kv.ts";
import { createKvBus } from "../../lib/bus/kv_bus.ts";
import { acceptUpgrade, createAdmission, Hub } from "../../lib/gateway/mod.ts";
import type { Namespaces } from "../../lib/gateway/namespaces.ts";

const secret = Deno.env.get("TOKEN_SECRET") ?? "bench-secret-bench-secret-bench-secret!!";
const kv = await openKv({ path: Deno.env.get("KV_PATH") ?? ":memory:" });
const auth = await createAuth({ kv, secret });
const namespaces: Namespaces = {
  bench: {
    subscribe: "authenticated",
    publish: "none",
    mode: "ordered",
    presence: false,
    history: { size: 100, ttlMs: 60_000 },
  },
};
const bus = await createKvBus({
  kv,
  historyOf: () => namespaces.bench.history,
  onError: (err) => console.error("bus error", err),
});
const hub = new Hub({
  serverId: crypto.randomUUID().slice(0, 8),
  namespaces,
  history: bus,
  auth,
  // Benchmarks open many connections for one user from one address at a high rate.
  limits: {
    maxConnectionsPerIp: 1e9,
    maxConnectionsPerUser: 1e9,
    upgradesPerSecondPerIp: 1e9,
    upgradesPerSecond: 1e9,
    idleTimeoutMs: 3_600_000,
    messagesPerSecond: 1e6,
    messageBurst: 1e6,
  },
});
hub.start();
bus.onMessage((m) =>
  hub.publish(m.channel, m.data, { offset: m.offset, epoch: m.epoch, ts: m.ts })
);
const admit = createAdmission({ hub, auth });

// Like the app (lib/app/shutdown.ts): tell clients 4000, stop timers and the bus, exit.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, async () => {
    hub.closeAll(4000, "server restarting");
    hub.stop();
    await bus.close();
    Deno.exit(0);
  });
}

interface PublishSpec {
  channels: string[];
  rate: number;
  ticks: number;
  payloadBytes: number;
  /** First `seq` (default 0), so a restarted server can continue a sequence. */
  seqFrom?: number;
}

async function publish(spec: PublishSpec): Promise<number> {
  const pad = "x".repeat(spec.payloadBytes);
  const start = performance.now();
  const sends: Promise<unknown>[] = [];
  for (let k = 0; k < spec.ticks; k++) {
    const wait = start + (k * 1000) / spec.rate - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    for (const channel of spec.channels) {
      sends.push(bus.publish(channel, { seq: (spec.seqFrom ?? 0) + k, t: Date.now(), pad }));
    }
  }
  await Promise.all(sends);
  return performance.now() - start;
}

export default {
  async fetch(req, info) {
    const url = new URL(req.url);
    if (url.pathname === "/ws") {
      const addr = info.remoteAddr;
      return acceptUpgrade(req, "hostname" in addr ? addr.hostname : "unix", hub, admit);
    }
    if (url.pathname === "/publish" && req.method === "POST") {
      const ms = await publish(await req.json());
      return Response.json({ ok: true, ms: Math.round(ms) });
    }
    if (url.pathname === "/stats") {
      const cpu = process.cpuUsage();
      return Response.json({
        rss: Deno.memoryUsage().rss,
        connections: hub.stats().connections,
        cpuUserUs: cpu.user,
        cpuSystemUs: cpu.system,
        bus: bus.stats(),
      });
    }
    if (url.pathname === "/gc" && req.method === "POST") {
      (globalThis as { gc?: () => void }).gc?.();
      return Response.json({ ok: true });
    }
    return new Response("not found", { status: 404 });
  },
} satisfies Deno.ServeDefaultExport;
