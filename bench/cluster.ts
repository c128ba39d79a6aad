/**
 * Deliveries/s of the real app on Redis with 3 processes vs 1, on this one machine
 * (`deno task bench:cluster`, issue 14).
 *
 * For each setup a redis-server (no persistence) and 1 or 3 app processes (`deno serve
 * main.ts`, `DENO_JOBS=1`, `REDIS_URL`, each its own in-memory KV) are started; three
 * load-generator processes (bench/loadgen.ts) open `subscribers / 3` anonymous sockets
 * each and subscribe to `system` (an ordered channel: every message, exactly); with 3
 * processes each load generator talks to its own process, with 1 all three talk to the
 * one. The load side is the same in both setups. This process publishes through its own
 * Redis bus engine — a producer as the market producer is — at a fixed rate (open loop:
 * latency is charged from the scheduled time), so every process reads each message once
 * from Redis and fans it out to its sockets.
 *
 * Columns: deliveries/s (values received ÷ time from the first scheduled publish to the
 * last receive), lost (expected − received: sockets the server cut for falling behind
 * its buffer bound, or a step that did not finish within its deadline), latency, and CPU
 * (cores busy) of the app processes, redis-server, the load generators and this process.
 *
 *   deno run -A bench/cluster.ts [subscribers=3000] [rates=10,40] [seconds=5] [processes=1,3]
 */
import process from "node:process";
import { appNamespaces } from "../lib/app/channels.ts";
import type { BusEngine } from "../lib/bus/engine.ts";
import { createRedisBus } from "../lib/bus/redis_bus.ts";
import { type AppProcess, startApp } from "../tests/_server.ts";
import { startRedis, type TestRedis } from "../tests/_redis.ts";
import { deadline } from "../tests/_deadline.ts";

const subscribers = Number(Deno.args[0] ?? 3_000);
const rates = (Deno.args[1] ?? "10,40").split(",").map(Number);
const seconds = Number(Deno.args[2] ?? 5);
const setups = (Deno.args[3] ?? "1,3").split(",").map(Number);
const LOADGENS = 3;
const CHANNEL = "system";
const HISTORY = appNamespaces({ symbols: new Set(), board: () => null }).system.history;
const CLK_TCK = 100; // getconf CLK_TCK on Linux

if (
  !(subscribers >= LOADGENS) || rates.some((r) => !(r > 0)) || !(seconds > 0) ||
  setups.some((n) => !(n >= 1 && n <= 8))
) {
  console.error(
    "usage: bench/cluster.ts [subscribers>=3] [rates>0,…] [seconds>0] [processes 1-8,…]",
  );
  Deno.exit(2);
}

/** Cores' worth of CPU seconds the whole machine has been busy so far, from /proc/stat. */
function machineBusy(): number {
  const [, ...ticks] = Deno.readTextFileSync("/proc/stat").split("\n")[0].trim().split(/\s+/);
  const n = ticks.map(Number);
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - n[3] - n[4]) / CLK_TCK; // minus idle and iowait
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuOf(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** A load-generator child and its JSON lines. */
interface Loadgen {
  child: Deno.ChildProcess;
  /** The next line matching `accept`, within `ms` (other lines are dropped). */
  line(accept: (o: Record<string, unknown>) => boolean, ms: number, what: string): Promise<
    Record<string, unknown>
  >;
  send(cmd: unknown): Promise<void>;
}

function spawnLoadgen(url: string, count: number): Loadgen {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./loadgen.ts", import.meta.url).pathname,
      JSON.stringify({
        url,
        protocol: "json",
        token: "",
        tokenIn: "query",
        count,
        channels: [[CHANNEL]],
        timeoutMs: 120_000,
        concurrency: 100,
        mode: "fanout",
      }),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const writer = child.stdin.getWriter();
  let buffer = "";
  async function next(): Promise<string> {
    for (;;) {
      const nl = buffer.indexOf("\n");
      if (nl >= 0) {
        const text = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        return text;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error("the load generator exited");
      buffer += value;
    }
  }
  return {
    child,
    line: (accept, ms, what) =>
      deadline(
        (async () => {
          for (;;) {
            const o = JSON.parse(await next());
            if (o.error) throw new Error(`load generator: ${o.error}`);
            if (accept(o)) return o;
          }
        })(),
        ms,
        what,
      ),
    send: (cmd) => writer.write(new TextEncoder().encode(JSON.stringify(cmd) + "\n")),
  };
}

/** Closes the load generators' stdin (they exit) and waits, SIGKILL after 10 s. */
async function stopLoadgens(gens: Loadgen[]): Promise<void> {
  await Promise.all(gens.map(async (g) => {
    await g.child.stdin.close().catch(() => {});
    await deadline(g.child.status, 10_000, "a load generator to exit").catch(() => {
      try {
        g.child.kill("SIGKILL");
      } catch {
        // gone
      }
    });
    await g.child.stdout.cancel().catch(() => {});
  }));
}

interface Row {
  processes: number;
  subscribers: number;
  rateHz: number;
  offeredPerSec: number;
  deliveries: number;
  lost: number;
  deliveriesPerSec: number;
  p50ms: number | null;
  p99ms: number | null;
  maxMs: number | null;
  appCpu: number;
  redisCpu: number;
  loadCpu: number;
  publisherCpu: number;
  /** The whole machine, cores busy (everything running on it, not only this benchmark). */
  machineCpu: number;
}

/** One measured step: `rate` messages/s for `secs` s to every subscriber. */
async function step(
  n: number,
  gens: Loadgen[],
  bus: BusEngine,
  procs: { apps: number[]; redis: number },
  rate: number,
  secs: number,
): Promise<Row> {
  const messages = Math.round(rate * secs);
  const startAt = Date.now() + 300;
  await Promise.all(
    gens.map((g) => g.send({ cmd: "step", startAt, rate, ticks: messages, channels: 1 })),
  );
  const cpu0 = performance.now();
  const app0 = procs.apps.map(cpuOf);
  const redis0 = cpuOf(procs.redis);
  const machine0 = machineBusy();
  const pub0 = process.cpuUsage();
  // Open loop: message k is due at startAt + k / rate.
  const interval = 1000 / rate;
  const t0 = performance.now() + (startAt - Date.now());
  const publishes: Promise<unknown>[] = [];
  let sent = 0;
  let publishErrors = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(messages, Math.floor((performance.now() - t0) / interval) + 1);
      while (sent < due) {
        publishes.push(
          bus.publish(CHANNEL, { k: 0, seq: sent, t: startAt + sent * interval })
            .catch(() => publishErrors++),
        );
        sent++;
      }
      if (sent >= messages) return resolve();
      setTimeout(tick, Math.max(0, t0 + sent * interval - performance.now()));
    };
    setTimeout(tick, Math.max(0, t0 - performance.now()));
  });
  await Promise.all(publishes);
  if (publishErrors > 0) console.error(`${publishErrors} publishes failed`);
  // Each load generator says "complete" once every socket holds the last message.
  await Promise.all(
    gens.map((g) =>
      g.line((o) => o.event === "complete", 30_000, "every socket to hold the last message")
        .catch(() => null)
    ),
  );
  await Promise.all(gens.map((g) => g.send({ cmd: "end" })));
  const results = await Promise.all(
    gens.map((g) => g.line((o) => "received" in o, 10_000, "a step's result")),
  );
  // CPU figures over the time they were measured; deliveries/s from the first due publish.
  const cpuWall = (performance.now() - cpu0) / 1000;
  const cores = (seconds: number) => round2(seconds / cpuWall);
  const pub = process.cpuUsage(pub0);
  const appCpu = procs.apps.reduce((a, pid, i) => a + cpuOf(pid) - app0[i], 0);
  const wall = Math.max(
    ...results.map((r) => ((r.lastAt as number | null) ?? Date.now()) - startAt),
  ) / 1000;
  const received = results.reduce((a, r) => a + Number(r.received), 0);
  const max = (key: string) => {
    const values = results.map((r) => r[key]).filter((v) => typeof v === "number");
    return values.length ? Math.max(...(values as number[])) : null;
  };
  const row: Row = {
    processes: n,
    subscribers,
    rateHz: rate,
    offeredPerSec: subscribers * rate,
    deliveries: received,
    lost: subscribers * messages - received,
    deliveriesPerSec: Math.round(received / wall),
    p50ms: max("p50"),
    p99ms: max("p99"),
    maxMs: max("max"),
    appCpu: cores(appCpu),
    redisCpu: cores(cpuOf(procs.redis) - redis0),
    loadCpu: cores(results.reduce((a, r) => a + Number(r.cpuSeconds), 0)),
    publisherCpu: cores((pub.user + pub.system) / 1e6),
    machineCpu: cores(machineBusy() - machine0),
  };
  await new Promise((r) => setTimeout(r, 1_000));
  return row;
}

async function runSetup(n: number): Promise<Row[]> {
  const rows: Row[] = [];
  let redis: TestRedis | undefined;
  const apps: AppProcess[] = [];
  let gens: Loadgen[] = [];
  try {
    redis = await startRedis();
    for (let i = 0; i < n; i++) {
      apps.push(
        await startApp({
          env: {
            REDIS_URL: redis.url,
            AUTH_SECRET: "bench-cluster-secret-bench-cluster-secret!",
            DENO_JOBS: "1",
            CHAIN: "off",
            LOG_LEVEL: "warn",
            WS_MAX_CONNECTIONS_PER_IP: "1000000",
            WS_UPGRADES_PER_SECOND_PER_IP: "1000000",
            WS_UPGRADES_PER_SECOND: "1000000",
          },
        }),
      );
    }
    const per = Math.floor(subscribers / LOADGENS);
    gens = Array.from({ length: LOADGENS }, (_, i) => {
      const app = apps[i % n];
      const count = i === LOADGENS - 1 ? subscribers - per * (LOADGENS - 1) : per;
      return spawnLoadgen(`ws://127.0.0.1:${app.port}/api/ws`, count);
    });
    const ready = await Promise.all(
      gens.map((g) => g.line((o) => "ready" in o, 120_000, "the sockets to open")),
    );
    const failed = ready.reduce((a, r) => a + Number(r.failed), 0);
    if (failed > 0) throw new Error(`${failed} sockets failed to open or subscribe`);
    const bus = await createRedisBus({ url: redis.url, historyOf: () => HISTORY });
    const procs = { apps: apps.map((a) => a.pid), redis: redis.child().pid };
    try {
      // Warm-up (JIT, connections to Redis), not recorded.
      await step(n, gens, bus, procs, rates[0], Math.min(2, seconds));
      for (const rate of rates) {
        const row = await step(n, gens, bus, procs, rate, seconds);
        console.log(JSON.stringify(row));
        rows.push(row);
      }
    } finally {
      await bus.close();
    }
  } finally {
    await stopLoadgens(gens);
    for (const app of apps) await app.stop();
    await redis?.stop();
  }
  return rows;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

console.log(
  `cluster bench: ${subscribers} subscribers, rates ${rates.join(",")}/s, ${seconds} s, ` +
    `processes ${setups.join(" vs ")}; load average ${Deno.loadavg().join(" ")}`,
);
const rows: Row[] = [];
for (const n of setups) rows.push(...await runSetup(n));
const cols = Object.keys(rows[0] ?? {}) as (keyof Row)[];
console.log(`\n| ${cols.join(" | ")} |\n| ${cols.map(() => "---").join(" | ")} |`);
for (const r of rows) console.log(`| ${cols.map((c) => r[c] ?? "–").join(" | ")} |`);
