import { deepEqual, equal } from "node:assert/strict";
import { evaluatePrice, type StoredRule } from "./evaluate.ts";
import type { AlertCondition, AlertRule } from "./types.ts";

function rule(
  condition: AlertCondition,
  trigger: AlertRule["trigger"] = { mode: "once" },
  armed: boolean | null = null,
): StoredRule {
  return {
    id: "r1",
    userId: "u1",
    condition,
    trigger,
    hysteresis: 0.001,
    priority: "normal",
    enabled: true,
    createdAt: 0,
    firedCount: 0,
    state: { armed },
  };
}

/** Feeds `prices` (one per `stepMs` from 0) and returns the times the rule fired. */
function run(
  r: StoredRule,
  prices: number[],
  stepMs: number,
): { fires: number[]; rule: StoredRule } {
  const fires: number[] = [];
  let current = r;
  prices.forEach((price, i) => {
    const t = i * stepMs;
    const e = evaluatePrice(current, { price, change: {} }, t);
    if (e.fire) fires.push(t);
    current = e.rule;
  });
  return { fires, rule: current };
}

/** Deterministic ±0.01 % jitter around `level` (alternating, with a slow drift pattern). */
function jitter(level: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => level * (1 + 0.0001 * Math.sin(i * 1.7)));
}

Deno.test("[alerts] crosses_above with a price jittering ±0.01 % around the level for 30 s fires exactly once", () => {
  const level = 100_000;
  // The price comes from below, then jitters around the level: 4 quotes a second for 30 s.
  const prices = [99_000, 99_500, ...jitter(level, 120)];
  const { fires, rule: after } = run(
    rule({ kind: "crosses_above", symbol: "BTC-USD", level }),
    prices,
    250,
  );
  equal(fires.length, 1, `fired at ${fires.join(", ")}`);
  equal(after.enabled, false, "once: disabled after firing");
  equal(after.firedCount, 1);
  // The same jitter with `every` and no cooldown still fires once: the band holds it.
  const every = run(
    rule({ kind: "crosses_above", symbol: "BTC-USD", level }, { mode: "every", cooldownMs: 0 }),
    prices,
    250,
  );
  equal(every.fires.length, 1, "the hysteresis band, not the cooldown, stops the jitter");
});

Deno.test("[alerts] every with a 60 s cooldown fires again only after it", () => {
  const level = 100;
  // A real oscillation: ±1 % around the level, period 10 s, one quote a second for 150 s.
  const prices = Array.from(
    { length: 151 },
    (_, s) => level * (1 + 0.01 * Math.sin((2 * Math.PI * s) / 10 - Math.PI / 2)),
  );
  const { fires } = run(
    rule({ kind: "crosses_above", symbol: "X", level }, { mode: "every", cooldownMs: 60_000 }),
    prices,
    1_000,
  );
  // The price crosses up every 10 s (first quote above: 3 s, 13 s, …); only the first cross
  // after each cooldown fires.
  deepEqual(fires, [3_000, 63_000, 123_000]);
  for (let i = 1; i < fires.length; i++) equal(fires[i] - fires[i - 1] >= 60_000, true);
  // Without the cooldown every real cross fires.
  const noCooldown = run(
    rule({ kind: "crosses_above", symbol: "X", level }, { mode: "every", cooldownMs: 0 }),
    prices,
    1_000,
  );
  equal(noCooldown.fires.length, 15);
});

Deno.test("[alerts] a crosses rule needs a fresh cross; above fires when true now", () => {
  const level = 100;
  // Created above the level (side learnt from the first price): no firing until it has
  // gone below the band and crosses again.
  const cross = run(rule({ kind: "crosses_above", symbol: "X", level }), [
    101,
    102,
    99.95,
    101,
    99,
    100.5,
  ], 1);
  deepEqual(cross.fires, [5], "99.95 is inside the band; 99 re-arms; 100.5 fires");
  const above = run(rule({ kind: "above", symbol: "X", level }), [101, 102], 1);
  deepEqual(above.fires, [0], "true at the first price");
  const below = run(rule({ kind: "crosses_below", symbol: "X", level }, { mode: "once" }, true), [
    101,
    100.01,
    100,
  ], 1);
  deepEqual(below.fires, [2]);
});

Deno.test("[alerts] change_pct, expiry and paused rules", () => {
  const r = rule({ kind: "change_pct", symbol: "X", window: "1h", pct: -5 }, {
    mode: "every",
    cooldownMs: 0,
  });
  const values = [-1, -4.99, -5, -6, -4.95, -4.89, -5.2];
  const fires: number[] = [];
  let current = r;
  values.forEach((v, i) => {
    const e = evaluatePrice(current, { price: 1, change: { "1h": v } }, i);
    if (e.fire) fires.push(i);
    current = e.rule;
  });
  deepEqual(fires, [2, 6], "re-armed only past the 0.1-point band");
  const unknown = evaluatePrice(r, { price: 1, change: {} }, 0);
  equal(unknown.fire, false, "no change figure for the window: not evaluated");
  const expired = { ...rule({ kind: "above", symbol: "X", level: 1 }), expiresAt: 10 };
  equal(evaluatePrice(expired, { price: 2, change: {} }, 10).fire, false);
  equal(evaluatePrice(expired, { price: 2, change: {} }, 9).fire, true);
  const paused = { ...rule({ kind: "above", symbol: "X", level: 1 }), enabled: false };
  equal(evaluatePrice(paused, { price: 2, change: {} }, 0).fire, false);
});
