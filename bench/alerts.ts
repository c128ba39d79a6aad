/**
 * Alert rules: evaluation throughput and price move → notification latency.
 *
 * 1. Evaluation: the engine (holding the lease, in-memory KV) gets quotes of one symbol
 *    with R rules on it that do not fire; throughput = rules × quotes per second. Also the
 *    pure evaluation function alone.
 * 2. Firing: R rules on one symbol all cross at once: time until R notifications are in
 *    their inboxes (4 users), on an in-memory KV and on a KV file.
 * 3. Latency: one rule (`every`, no cooldown) on a KV file, the price alternating across
 *    its level; time from `bus.publish` of the quote to the `user:{id}` message carrying
 *    the notification (evaluation, commit, outbox, job, inbox commit, push), p50/p99.
 *
 *   deno run -A bench/alerts.ts [samples]
 */
import { createKvBus } from "../lib/bus/kv_bus.ts";
import { openKv } from "../lib/kv/open.ts";
import { startAlertEngine } from "../lib/alerts/engine.ts";
import { evaluatePrice, type StoredRule } from "../lib/alerts/evaluate.ts";
import { createRuleStore } from "../lib/alerts/store.ts";
import { alertRuleKey } from "../lib/kv/keys.ts";
import { createNotifier } from "../lib/notifications/delivery.ts";
import type { InboxEvent } from "../lib/notifications/types.ts";
import type { Quote } from "../lib/prices/types.ts";

const samples = Number(Deno.args[0] ?? 200);

/** An armed `once` rule: BTC-USD crossing above `level`. */
function armedRule(id: string, userId: string, level: number): StoredRule {
  return {
    id,
    userId,
    condition: { kind: "crosses_above", symbol: "BTC-USD", level },
    trigger: { mode: "once" },
    hysteresis: 0.001,
    priority: "normal",
    enabled: true,
    createdAt: 0,
    firedCount: 0,
    state: { armed: true },
  };
}

/**
 * Writes rules 0…n-1 straight to KV, 400 per commit (the store's own API keeps 50 per user;
 * these benches need thousands).
 */
async function writeRules(kv: Deno.Kv, n: number, make: (k: number) => StoredRule) {
  for (let i = 0; i < n; i += 400) {
    const op = kv.atomic();
    for (let k = i; k < Math.min(n, i + 400); k++) {
      const rule = make(k);
      op.set(alertRuleKey(rule.userId, rule.id), rule);
    }
    await op.commit();
  }
}
const quiet = { warn: () => {}, error: () => {} };

function quote(symbol: string, price: number): Quote {
  return {
    symbol,
    price,
    bid: price,
    ask: price,
    open24h: price,
    change24hPct: 0,
    volume24h: 0,
    sources: ["bench"],
    ts: Date.now(),
  };
}

function pct(values: number[], p: number): number {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))];
}

async function until(check: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> {
  const end = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > end) throw new Error("Timed out in the bench");
    await new Promise((r) => setTimeout(r, 2));
  }
}

// ---- 1. evaluation throughput ------------------------------------------------------------

console.log("## Evaluation (no firing): rules × quotes per second\n");
console.log("| rules on the symbol | quotes | engine (onQuote) | evaluatePrice alone |");
console.log("| ------------------- | ------ | ---------------- | ------------------- |");
for (const rules of [1_000, 10_000, 50_000]) {
  const kv = await Deno.openKv(":memory:");
  // Levels above the price, armed.
  await writeRules(kv, rules, (k) => armedRule(`r${k}`, `u${k % 1_000}`, 200 + k));
  const ac = new AbortController();
  const engine = startAlertEngine({
    kv,
    holder: "bench",
    signal: ac.signal,
    notify: () => Promise.resolve({ refused: [] }),
    seedFromCandles: false,
    log: quiet,
  });
  await until(() => engine.stats().holding && engine.stats().rules === rules);
  const quotes = Math.max(20, Math.round(2_000_000 / rules));
  const t0 = performance.now();
  for (let q = 0; q < quotes; q++) engine.onQuote(quote("BTC-USD", 100 + (q % 7) * 0.01));
  const engineMs = performance.now() - t0;
  // The function alone, on one rule object.
  const one = armedRule("x", "u", 200);
  const n = rules * quotes;
  const t1 = performance.now();
  for (let i = 0; i < n; i++) evaluatePrice(one, { price: 100 + (i % 7) * 0.01, change: {} }, 0);
  const fnMs = performance.now() - t1;
  const rate = (ms: number) => `${(n / (ms / 1_000) / 1e6).toFixed(1)} M/s`;
  console.log(`| ${rules} | ${quotes} | ${rate(engineMs)} | ${rate(fnMs)} |`);
  ac.abort();
  await engine.done;
  kv.close();
}

// ---- 2. a burst of firings ---------------------------------------------------------------

console.log("\n## Firing: R rules cross at once → R notifications in the inboxes (4 users)\n");
console.log("| KV | rules | all in the inboxes |");
console.log("| -- | ----- | ------------------ |");
for (const where of ["memory", "file"] as const) {
  for (const rules of [100, 1_000]) {
    const dir = await Deno.makeTempDir();
    const kv = where === "memory"
      ? await Deno.openKv(":memory:")
      : await openKv({ path: `${dir}/kv.sqlite` });
    const bus = await createKvBus({
      kv,
      historyOf: () => ({ size: 100, ttlMs: 60_000 }),
      pollMs: 0,
    });
    const notifier = await createNotifier({
      kv,
      bus,
      log: quiet,
      store: { ratePerMinute: 100_000 },
    });
    notifier.start();
    await writeRules(kv, rules, (k) => armedRule(`r${k}`, `u${k % 4}`, 100 + k * 0.01));
    const ac = new AbortController();
    const engine = startAlertEngine({
      kv,
      holder: "bench",
      signal: ac.signal,
      notify: (inputs) => notifier.notifyMany(inputs),
      seedFromCandles: false,
      log: quiet,
    });
    await until(() => engine.stats().holding && engine.stats().rules === rules);
    const t0 = performance.now();
    engine.onQuote(quote("BTC-USD", 1_000));
    await until(async () => (await notifier.status()).counters.created >= rules, 120_000);
    console.log(`| ${where} | ${rules} | ${Math.round(performance.now() - t0)} ms |`);
    ac.abort();
    await engine.done;
    await notifier.stop();
    await bus.close();
    kv.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

// ---- 3. latency --------------------------------------------------------------------------

console.log(
  `\n## Price move → notification pushed on user:{id} (KV file, one isolate, ${samples} samples)\n`,
);
console.log("| job backend | p50 | p99 | max |");
console.log("| ----------- | --- | --- | --- |");
for (const backend of ["kv-queue", "outbox"] as const) {
  const dir = await Deno.makeTempDir();
  const kv = await openKv({ path: `${dir}/kv.sqlite` });
  const bus = await createKvBus({ kv, historyOf: () => ({ size: 100, ttlMs: 60_000 }) });
  const notifier = await createNotifier({
    kv,
    bus,
    backend,
    log: quiet,
    store: { ratePerMinute: 100_000 },
  });
  notifier.start();
  const rules = createRuleStore({ kv, priceOf: () => 99 });
  const created = await rules.create("lat", {
    condition: { kind: "crosses_above", symbol: "BTC-USD", level: 100 },
    trigger: { mode: "every", cooldownMs: 0 },
  });
  if (!created.ok) throw new Error("rule");
  const ac = new AbortController();
  const engine = startAlertEngine({
    kv,
    holder: "bench",
    signal: ac.signal,
    notify: (inputs) => notifier.notifyMany(inputs),
    seedFromCandles: false,
    log: quiet,
  });
  bus.onMessage((m) => engine.onBusMessage(m));
  let waiting: ((t: number) => void) | null = null;
  bus.onMessage((m) => {
    if (m.channel === "user:lat" && (m.data as InboxEvent).type === "notification") {
      waiting?.(performance.now());
    }
  });
  await until(() => engine.stats().holding && engine.stats().rules === 1);
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    await bus.publish("prices:BTC-USD", quote("BTC-USD", 99)); // re-arms
    await new Promise((r) => setTimeout(r, 5));
    const got = new Promise<number>((resolve) => waiting = resolve);
    const t0 = performance.now();
    await bus.publish("prices:BTC-USD", quote("BTC-USD", 101)); // crosses: fires
    latencies.push((await got) - t0);
    waiting = null;
  }
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  console.log(
    `| ${backend} | ${ms(pct(latencies, 50))} | ${ms(pct(latencies, 99))} | ${
      ms(Math.max(...latencies))
    } |`,
  );
  ac.abort();
  await engine.done;
  await notifier.stop();
  await bus.close();
  kv.close();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
