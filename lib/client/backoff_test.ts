import { equal, ok } from "node:assert/strict";
import { backoffDelay } from "./backoff.ts";

Deno.test("[backoff] full jitter stays in [0, min(max, base·2^n))", () => {
  const opts = { minMs: 500, maxMs: 20_000 };
  equal(backoffDelay(0, opts, () => 0), 0);
  equal(backoffDelay(0, opts, () => 0.999999), 499);
  equal(backoffDelay(3, opts, () => 0.5), 2_000);
  equal(backoffDelay(10, opts, () => 0.999999), 19_999, "capped");
  equal(backoffDelay(1_000, opts, () => 0.5), 10_000, "huge attempts stay capped");
  for (let attempt = 0; attempt < 12; attempt++) {
    const ceiling = Math.min(20_000, 500 * 2 ** attempt);
    for (let i = 0; i < 50; i++) {
      const d = backoffDelay(attempt, opts);
      ok(d >= 0 && d < ceiling, `attempt ${attempt}: ${d} within [0, ${ceiling})`);
    }
  }
});
