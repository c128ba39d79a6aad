/**
 * Cross-isolate latency of the KV bus: this isolate publishes at a fixed rate on a KV
 * file, two worker isolates (like `deno serve --parallel`) receive; latency = receive
 * time − publish time in the payload. Then a burst, to see group-commit batch sizes.
 *
 *   deno run -A bench/bus_latency.ts [messages/s] [seconds] [burst]
 */
import { retryWhileLocked } from "../lib/kv/open.ts";
import { createKvBus } from "../lib/bus/kv_bus.ts";

const rate = Number(Deno.args[0] ?? 500);
const seconds = Number(Deno.args[1] ?? 5);
const burst = Number(Deno.args[2] ?? 5_000);

const dir = await Deno.makeTempDir();
const path = `${dir}/kv.sqlite`;
const kv = retryWhileLocked(await Deno.openKv(path));
const bus = await createKvBus({ kv, historyOf: () => ({ size: 100, ttlMs: 60_000 }) });

function spawn() {
  const worker = new Worker(new URL("../tests/fixtures/bus_worker.ts", import.meta.url), {
    type: "module",
  });
  const waiting = new Map<number, (v: unknown) => void>();
  let next = 0;
  worker.onmessage = (e) => waiting.get(e.data.id)?.(e.data);
  const ask = <T>(msg: Record<string, unknown>) =>
    new Promise<T>((resolve) => {
      const id = ++next;
      waiting.set(id, resolve as (v: unknown) => void);
      worker.postMessage({ ...msg, id });
    });
  return { worker, ask };
}
type Report = { received: { latencyMs: number; tag: string }[] };
const workers = [spawn(), spawn()];
for (const w of workers) await w.ask({ kind: "start", path });

function percentiles(values: number[]) {
  const v = [...values].sort((a, b) => a - b);
  const at = (q: number) => v[Math.min(v.length - 1, Math.floor(q * v.length))];
  return { n: v.length, p50: at(0.5), p99: at(0.99), max: v.at(-1) };
}

async function collect(tag: string, expected: number): Promise<number[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const reports = await Promise.all(workers.map((w) => w.ask<Report>({ kind: "report" })));
    const mine = reports.flatMap((r) => r.received.filter((m) => m.tag === tag));
    if (mine.length >= expected * workers.length || Date.now() > deadline) {
      return mine.map((m) => m.latencyMs);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Steady rate.
const total = rate * seconds;
const t0 = performance.now();
const sends: Promise<unknown>[] = [];
for (let i = 0; i < total; i++) {
  const due = t0 + (i * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  sends.push(bus.publish(`room:${i % 10}`, { tag: "steady", i, t: Date.now() }));
}
await Promise.all(sends);
const steady = percentiles(await collect("steady", total));
const afterSteady = bus.stats();

// Burst.
const burstStart = Date.now();
await Promise.all(
  Array.from(
    { length: burst },
    (_, i) => bus.publish(`room:${i % 10}`, { tag: "burst", i, t: Date.now() }),
  ),
);
const burstLat = percentiles(await collect("burst", burst));
const stats = bus.stats();
const burstCommits = stats.commits - afterSteady.commits;

console.log(JSON.stringify({
  steady: {
    rate,
    seconds,
    ...steady,
    commits: afterSteady.commits,
    messagesPerCommit: Number((afterSteady.published / afterSteady.commits).toFixed(2)),
  },
  burst: {
    messages: burst,
    ...burstLat,
    commits: burstCommits,
    messagesPerCommit: Number((burst / burstCommits).toFixed(1)),
    maxBatch: stats.maxBatch,
    publishMs: Date.now() - burstStart,
  },
}));
for (const w of workers) {
  await w.ask({ kind: "stop" });
  w.worker.terminate();
}
await bus.close();
kv.close();
await Deno.remove(dir, { recursive: true });
