/**
 * Our gateway as a benchmark peer: the real stack — KV bus (offsets, history, group
 * commit, cross-isolate watch), hub, admission with JWT authentication, protocol v1 — on a
 * `bench` namespace (ordered: every message, exactly) and a `board` namespace (latest-value,
 * like `prices`: a slow reader gets the newest value per channel), behind the same control contract as the other peers
 * (bench/peers/README.md): `POST /publish`, `GET /stats`, `POST /gc`.
 *
 *   KV_PATH=/tmp/bench.kv TOKEN_SECRET=… deno serve -A [--parallel] --port 0 bench/peers/gateway.ts
 *
 * The WebSocket endpoint is `/ws`, authenticated with `Authorization: Bearer <jwt>` (HS256,
 * audience and issuer `realtime`, signed with `TOKEN_SECRET`) as real clients do.
 * `bench/peers/gateway_guarded.ts` serves the same handler through the connection guard.
 */
import process from "node:process";
import { createAuth } from "../../lib/auth/mod.ts";
import { openKv } from "../../lib/kv/open.ts";
import { createKvBus } from "../../lib/bus/kv_bus.ts";
import { bridgeBusToHub } from "../../lib/app/bridge.ts";
import { acceptUpgrade, createAdmission, DEFAULT_FLOW, Hub } from "../../lib/gateway/mod.ts";
import type { Namespaces } from "../../lib/gateway/namespaces.ts";
import { parsePublish, runTicks } from "./_common.mjs";

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
  board: {
    subscribe: "authenticated",
    publish: "none",
    mode: "latest",
    presence: false,
    history: { size: 1, ttlMs: 60_000 },
  },
};
const bus = await createKvBus({
  kv,
  historyOf: (channel) =>
    (channel.startsWith("board:") ? namespaces.board : namespaces.bench).history,
  onError: (err) => console.error("bus error", err),
});
/** The hub (exported for bench/peers/gateway_guarded.ts, which registers the guard's metrics). */
export const hub = new Hub({
  serverId: crypto.randomUUID().slice(0, 8),
  namespaces,
  history: bus,
  auth,
  // As the app (lib/app/services.ts): latest values coalesced, flow control on (A/B:
  // BENCH_COALESCE=off, BENCH_FLOW=off).
  coalesceLatest: Deno.env.get("BENCH_COALESCE") !== "off",
  flow: Deno.env.get("BENCH_FLOW") === "off"
    ? undefined
    : { ...DEFAULT_FLOW, ...JSON.parse(Deno.env.get("BENCH_FLOW_JSON") ?? "{}") },
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
// Diagnostics (bench/README.md): BENCH_TRACE=<file> appends, every second, how late the
// publisher ran (publish − scheduled time), how late values reached the hub (hub.deliver −
// scheduled: the bus's share), the hub's coalesced fan-outs and the connections held back.
const TRACE = Deno.env.get("BENCH_TRACE");
/** How late each publish ran, ms (only with BENCH_TRACE; emptied every second). */
const pubLate: number[] | null = TRACE ? [] : null;
if (TRACE && pubLate) {
  const pub = pubLate;
  const deliv: number[] = [];
  const flushMs: number[] = [];
  const origDeliver = hub.deliver.bind(hub);
  hub.deliver = (channel, data, options) => {
    const t = (data as { t?: number })?.t;
    if (typeof t === "number") deliv.push(Date.now() - t);
    return origDeliver(channel, data, options);
  };
  const origFlush = hub.flushLatest.bind(hub);
  hub.flushLatest = () => {
    const a = performance.now();
    origFlush();
    flushMs.push(performance.now() - a);
  };
  const q = (xs: number[], p: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? Math.round(s[Math.floor(p * (s.length - 1))]) : null;
  };
  setInterval(() => {
    if (deliv.length === 0 && pub.length === 0) return;
    Deno.writeTextFileSync(
      TRACE,
      JSON.stringify({
        at: new Date().toISOString().slice(11, 19),
        pubN: pub.length,
        pub50: q(pub, 0.5),
        pub99: q(pub, 0.99),
        delivN: deliv.length,
        deliv50: q(deliv, 0.5),
        deliv99: q(deliv, 0.99),
        flushes: flushMs.length,
        flush50: q(flushMs, 0.5),
        flush99: q(flushMs, 0.99),
        behind: hub.stats().behind,
      }) + "\n",
      { append: true },
    );
    pub.length = 0;
    deliv.length = 0;
    flushMs.length = 0;
  }, 1000);
}
// As the app: bus messages delivered to the hub, gaps closing subscribers (lib/app/bridge.ts).
bridgeBusToHub(bus, hub, { log: { warn: (msg, fields) => console.error(msg, fields) } });
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

const LATEST = Deno.env.get("BENCH_LATEST") !== "off";

/** Publishes on the open-loop schedule (bench/README.md); resolves once every commit is done. */
async function publish(body: unknown): Promise<number> {
  const request = parsePublish(body);
  if (typeof request === "string") throw new Error(`Cannot publish: ${request}`);
  const sends: Promise<unknown>[] = [];
  const ms = await runTicks(request, (channel, data) => {
    pubLate?.push(Date.now() - data.t);
    // As the app's market engine: board values are latest values (BENCH_LATEST=off: not).
    sends.push(bus.publish(channel, data, { latest: LATEST && channel.startsWith("board:") }));
  });
  await Promise.all(sends);
  return ms;
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
        heapUsed: Deno.memoryUsage().heapUsed,
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
