/**
 * Cross-process publish → deliver latency of the two bus engines, and Redis commands per
 * published message (`deno task bench:engines`).
 *
 * For each engine and rate, this process publishes at a fixed rate on 10 channels and a
 * second process (this script with `--subscriber`) runs its own engine on the same store
 * and records receive time − publish time (both processes read one clock). KV: both on
 * one KV file (across processes `kv.watch` does not notify, so delivery rides the 500 ms
 * poll). Redis: a redis-server started here (no persistence). Commands per message come
 * from `INFO commandstats` before and after a run (calls made inside the publish script
 * included; the subscriber's `XREAD`s too).
 *
 *   deno run -A bench/bus_engines.ts [seconds=5] [rates=500,5000] [engines=redis,kv]
 */
import { createKvBus } from "../lib/bus/kv_bus.ts";
import { retryWhileLocked } from "../lib/kv/open.ts";
import { closeRedis, openRedis } from "../lib/bus/redis.ts";
import { createRedisBus } from "../lib/bus/redis_bus.ts";
import type { BusEngine } from "../lib/bus/engine.ts";
import { spawnChild } from "../tests/_deadline.ts";
import { startRedis } from "../tests/_redis.ts";

const POLICY = () => ({ size: 100, ttlMs: 60_000 });
const CHANNELS = 10;
const WARM_MS = 1_000;
const PAD = "x".repeat(100);
const clock = () => performance.timeOrigin + performance.now();

type Engine = "redis" | "kv";

function open(engine: Engine, store: string): Promise<BusEngine> {
  return engine === "redis"
    ? createRedisBus({ url: store, historyOf: POLICY })
    : Deno.openKv(store).then((kv) => createKvBus({ kv: retryWhileLocked(kv), historyOf: POLICY }));
}

// ---- the subscriber process ----------------------------------------------------------

if (Deno.args[0] === "--subscriber") {
  const [, engine, store, expectedArg, limitMsArg] = Deno.args;
  const expected = Number(expectedArg);
  const bus = await open(engine as Engine, store);
  const latencies: number[] = [];
  let firstAt = 0;
  let lastAt = 0;
  const done = Promise.withResolvers<void>();
  bus.onMessage((m) => {
    const data = m.data as { tag: string; t: number };
    if (data.tag !== "run") return;
    const at = clock();
    firstAt ||= at;
    lastAt = at;
    latencies.push(at - data.t);
    if (latencies.length >= expected) done.resolve();
  });
  console.log("ready");
  const timer = setTimeout(done.resolve, Number(limitMsArg));
  await done.promise;
  clearTimeout(timer);
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  console.log(
    "result " +
      JSON.stringify({
        received: latencies.length,
        p50: at(0.5),
        p99: at(0.99),
        max: latencies.at(-1),
        deliveredPerSec: latencies.length / Math.max(0.001, (lastAt - firstAt) / 1000),
      }),
  );
  await bus.close();
  Deno.exit(0);
}

// ---- the publisher (main) ------------------------------------------------------------

const seconds = Number(Deno.args[0] ?? 5);
const rates = (Deno.args[1] ?? "500,5000").split(",").map(Number);
const engines = (Deno.args[2] ?? "redis,kv").split(",") as Engine[];

/** Sum of `calls` per command in `INFO commandstats`. */
async function commandStats(url: string): Promise<Map<string, number>> {
  const client = await openRedis(url);
  try {
    const info = await client.info("commandstats");
    const calls = new Map<string, number>();
    for (const line of info.split("\n")) {
      const m = line.match(/^cmdstat_([a-z|_-]+):calls=(\d+)/);
      if (m) calls.set(m[1], Number(m[2]));
    }
    return calls;
  } finally {
    await closeRedis(client);
  }
}

/** Publishes at `rate` for `ms` with `tag`; resolves when every publish is committed. */
async function publishAt(bus: BusEngine, rate: number, ms: number, tag: string): Promise<number> {
  const total = Math.round((rate * ms) / 1000);
  const t0 = performance.now();
  const sends: Promise<unknown>[] = [];
  let failed = 0;
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    sends.push(
      bus.publish(`room:${i % CHANNELS}`, { tag, i, t: clock(), pad: PAD }).catch(() => failed++),
    );
  }
  await Promise.all(sends);
  return failed;
}

const redis = engines.includes("redis") ? await startRedis() : undefined;
const dir = await Deno.makeTempDir({ prefix: "bench-engines-" });
const rows: Record<string, unknown>[] = [];
try {
  for (const engine of engines) {
    for (const rate of rates) {
      const store = engine === "redis" ? redis!.url : `${dir}/${engine}-${rate}.sqlite`;
      if (engine === "redis") {
        const client = await openRedis(store);
        await client.flushall();
        await client.config("RESETSTAT");
        await closeRedis(client);
      }
      const expected = rate * seconds;
      const sub = spawnChild(Deno.execPath(), [
        "run",
        "-A",
        import.meta.filename!,
        "--subscriber",
        engine,
        store,
        String(expected),
        String(WARM_MS + seconds * 1_000 + 30_000),
      ], { name: `subscriber (${engine})`, cwd: new URL("../", import.meta.url) });
      try {
        await sub.waitForOutput(/^ready$/m, 30_000, "the subscriber to start");
        const bus = await open(engine, store);
        await publishAt(bus, rate, WARM_MS, "warm");
        const before = redis ? await commandStats(redis.url) : undefined;
        const statsBefore = bus.stats();
        const failed = await publishAt(bus, rate, seconds * 1_000, "run");
        const statsAfter = bus.stats();
        const match = await sub.waitForOutput(/^result (.*)$/m, 60_000, "the subscriber's result");
        const after = redis ? await commandStats(redis.url) : undefined;
        const result = JSON.parse(match[1]);
        const published = statsAfter.published - statsBefore.published;
        const row: Record<string, unknown> = {
          engine,
          rate,
          seconds,
          published,
          failed,
          ...result,
          messagesPerCommit: published / Math.max(1, statsAfter.commits - statsBefore.commits),
        };
        if (before && after) {
          const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
          const names = [...after.keys()].filter((n) => n !== "info" && n !== "client|setinfo");
          const total = names.reduce((sum, n) => sum + delta(n), 0);
          row.redisCommandsPerMessage = total / published;
          row.redisCommands = Object.fromEntries(
            names.map((n) => [n, Number((delta(n) / published).toFixed(3))]).filter(([, v]) =>
              (v as number) > 0
            ),
          );
        }
        rows.push(row);
        console.error(JSON.stringify(row));
        await bus.close();
      } finally {
        await sub.stop();
      }
    }
  }
} finally {
  await redis?.stop();
  await Deno.remove(dir, { recursive: true });
}

const ms = (v: unknown) => `${Number(v).toFixed(1)} ms`;
console.log(
  "| engine | rate (msg/s) | delivered | p50 | p99 | max | messages / commit | Redis commands / message |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const r of rows) {
  console.log(
    `| ${r.engine} | ${r.rate} | ${r.received} / ${r.published} | ${ms(r.p50)} | ${ms(r.p99)} | ${
      ms(r.max)
    } | ${Number(r.messagesPerCommit).toFixed(2)} | ${
      r.redisCommandsPerMessage === undefined ? "–" : Number(r.redisCommandsPerMessage).toFixed(2)
    } |`,
  );
}
console.log(JSON.stringify(rows));
