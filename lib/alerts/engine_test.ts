import { deepEqual, equal, ok } from "node:assert/strict";
import { alertOutboxKey, alertRuleKey } from "../kv/keys.ts";
import { openKv } from "../kv/open.ts";
import { tempKvPath } from "../bus/jobs_testing.ts";
import type { NotificationInput } from "../notifications/types.ts";
import type { Quote } from "../prices/types.ts";
import { waitFor } from "../../tests/_deadline.ts";
import { type AlertEngine, startAlertEngine } from "./engine.ts";
import type { StoredRule } from "./evaluate.ts";
import { createRuleStore } from "./store.ts";

const T0 = 1_700_000_000_000;

function quote(symbol: string, price: number): Quote {
  return {
    symbol,
    price,
    bid: price,
    ask: price,
    open24h: price,
    change24hPct: 0,
    volume24h: 0,
    sources: ["test"],
    ts: 0,
  };
}

/** An engine on `kv` with an injected clock and a notify that records. */
async function engine(kv: Deno.Kv, clock: { now: () => number }, holder = "A", hold = true) {
  const sent: NotificationInput[] = [];
  const ac = new AbortController();
  const e: AlertEngine = startAlertEngine({
    kv,
    holder,
    signal: ac.signal,
    now: clock.now,
    intervalMs: 20,
    seedFromCandles: false,
    log: { warn: () => {} },
    notify: (inputs) => {
      sent.push(...inputs);
      return Promise.resolve({ refused: [] });
    },
  });
  if (hold) {
    await waitFor(() => e.stats().holding, {
      timeoutMs: 5_000,
      what: `engine ${holder} to hold the lease`,
    });
  } else await new Promise((r) => setTimeout(r, 100)); // a few rounds: it stays a follower
  return {
    engine: e,
    sent,
    async stop() {
      ac.abort();
      await e.done;
    },
  };
}

Deno.test("[alerts] engine: ±0.01 % jitter for 30 s (injected clock) fires exactly once; every + 60 s cooldown only after it", async () => {
  const kv = await Deno.openKv(":memory:");
  let t = T0;
  const clock = { now: () => t };
  const rules = createRuleStore({ kv, now: clock.now, priceOf: () => 99_000 });
  const once = await rules.create("u1", {
    condition: { kind: "crosses_above", symbol: "BTC-USD", level: 100_000 },
  });
  const every = await rules.create("u1", {
    condition: { kind: "crosses_above", symbol: "ETH-USD", level: 100 },
    trigger: { mode: "every", cooldownMs: 60_000 },
  });
  // The same jitter with `every` and no cooldown: only the hysteresis band holds it.
  const noCooldown = await rules.create("u2", {
    condition: { kind: "crosses_above", symbol: "BTC-USD", level: 100_000 },
    trigger: { mode: "every", cooldownMs: 0 },
  });
  ok(once.ok && every.ok && noCooldown.ok);
  const run = await engine(kv, clock);
  try {
    equal(run.engine.stats().rules, 3);
    // 4 quotes a second for 30 s, jittering ±0.01 % around the level.
    for (let i = 0; i < 120; i++) {
      run.engine.onQuote(quote("BTC-USD", 100_000 * (1 + 0.0001 * Math.sin(i * 1.7))));
      t += 250;
    }
    await run.engine.idle();
    const btc = run.sent.filter((n) => n.data?.symbol === "BTC-USD" && n.userId === "u1");
    equal(btc.length, 1, "exactly once");
    const band = run.sent.filter((n) => n.data?.symbol === "BTC-USD" && n.userId === "u2");
    equal(band.length, 1, "every without cooldown: once too (the band)");
    equal(btc[0].link, "/markets/BTC-USD");
    equal(btc[0].category, "price_alert");
    const stored = (await kv.get<StoredRule>(alertRuleKey("u1", once.ok ? once.rule.id : "")))
      .value!;
    equal(stored.enabled, false, "a once rule is disabled in the same commit");
    equal(stored.firedCount, 1);

    // ETH oscillates ±1 % (period 10 s), one quote a second for 150 s.
    const start = t;
    for (let s = 0; s <= 150; s++) {
      t = start + s * 1_000;
      run.engine.onQuote(quote("ETH-USD", 100 * (1 - 0.01 * Math.cos((2 * Math.PI * s) / 10))));
    }
    await run.engine.idle();
    const eth = run.sent.filter((n) => n.data?.symbol === "ETH-USD");
    const times = (await kv.get<StoredRule>(alertRuleKey("u1", every.ok ? every.rule.id : "")))
      .value!;
    equal(eth.length, 3, "at 3 s, 63 s and 123 s");
    equal(times.firedCount, 3);
    deepEqual(eth.map((n) => n.idempotencyKey), [1, 2, 3].map((k) => `alert:${times.id}:${k}`));
    equal(times.lastFiredAt, start + 123_000);
  } finally {
    await run.stop();
    kv.close();
  }
});

Deno.test("[alerts] engine: two isolates, one evaluates; the other takes over without doubles", async () => {
  const tmp = await tempKvPath();
  const kvA = await openKv({ path: tmp.path });
  const kvB = await openKv({ path: tmp.path });
  const clock = { now: () => Date.now() };
  const rules = createRuleStore({ kv: kvA, priceOf: () => 50 });
  for (let i = 0; i < 20; i++) {
    const r = await rules.create(`u${i % 2}`, {
      condition: { kind: "crosses_above", symbol: "SOL-USD", level: 100 + i },
    });
    ok(r.ok);
  }
  const a = await engine(kvA, clock, "A");
  const b = await engine(kvB, clock, "B", false); // the lease is A's
  try {
    equal(b.engine.stats().holding, false);
    // Both isolates see every quote (the bus delivers to all).
    for (const p of [90, 105, 110]) {
      a.engine.onQuote(quote("SOL-USD", p));
      b.engine.onQuote(quote("SOL-USD", p));
    }
    await a.engine.idle();
    equal(a.sent.length, 11, "levels 100–110 crossed");
    equal(b.sent.length, 0);
    // A stops (releases the lease); B takes over with the committed state.
    await a.stop();
    await waitFor(() => b.engine.stats().holding, {
      timeoutMs: 5_000,
      what: "B to take the lease",
    });
    for (const p of [110, 115, 130]) b.engine.onQuote(quote("SOL-USD", p));
    await b.engine.idle();
    const all = [...a.sent, ...b.sent].map((n) => n.idempotencyKey);
    equal(all.length, 20, "every rule once");
    equal(new Set(all).size, 20, "none doubled");
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    kvA.close();
    kvB.close();
    await tmp.remove();
  }
});

Deno.test("[alerts] engine: a firing left in the outbox is handed over by the next holder; new rules load within a tick", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = { now: () => Date.now() };
  const left: NotificationInput = {
    userId: "u1",
    category: "price_alert",
    priority: "normal",
    title: "left over",
    body: "",
    idempotencyKey: "alert:r:1",
  };
  await kv.set(alertOutboxKey("01"), left);
  const run = await engine(kv, clock);
  try {
    await waitFor(() => run.sent.length === 1, { timeoutMs: 5_000, what: "the outbox drain" });
    deepEqual(run.sent[0], left);
    equal((await kv.get(alertOutboxKey("01"))).value, null, "removed once handed over");
    const rules = createRuleStore({ kv });
    const r = await rules.create("u2", {
      condition: { kind: "change_pct", symbol: "BTC-USD", window: "24h", pct: 5 },
    });
    ok(r.ok);
    await waitFor(() => run.engine.stats().rules === 1, { timeoutMs: 5_000, what: "the new rule" });
    run.engine.onQuote({ ...quote("BTC-USD", 100), change24hPct: 6 });
    await run.engine.idle();
    equal(run.sent.length, 2);
    equal(run.sent[1].title, "BTC-USD rose 6.00 % in 24h");
    // Paused: it leaves memory.
    await rules.update("u2", r.ok ? r.rule.id : "", { enabled: false });
    await waitFor(() => run.engine.stats().rules === 0, {
      timeoutMs: 5_000,
      what: "the paused rule to leave",
    });
  } finally {
    await run.stop();
    kv.close();
  }
});
