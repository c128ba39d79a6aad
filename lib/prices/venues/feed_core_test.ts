import { deepStrictEqual as assertEquals, equal, ok } from "node:assert/strict";
import { waitFor } from "../../../tests/_deadline.ts";
import { backoffDelay, SendThrottle } from "./feed_core.ts";

const TIMING = { backoffBaseMs: 500, backoffMaxMs: 30_000 };

Deno.test("[feed core] full-jitter backoff: uniform below min(max, base · 2^attempt)", () => {
  equal(backoffDelay(0, TIMING, () => 0), 0);
  equal(backoffDelay(0, TIMING, () => 0.5), 250);
  equal(backoffDelay(3, TIMING, () => 0.5), 2_000);
  equal(backoffDelay(20, TIMING, () => 0.5), 15_000, "capped at backoffMaxMs");
  ok(backoffDelay(20, TIMING, () => 0.999999) < 30_000);
  equal(backoffDelay(1, TIMING, () => 7), 999, "an out-of-range random is clamped");
  equal(backoffDelay(1, TIMING, () => -1), 0);
  equal(backoffDelay(10_000, TIMING, () => 0.5), 15_000, "a huge attempt does not overflow");
});

Deno.test("[feed core] the send throttle never exceeds its rate in any 1 s window", async () => {
  const times: number[] = [];
  const clock = () => performance.now();
  const throttle = new SendThrottle(3, () => times.push(clock()), clock, 2);
  try {
    for (let i = 0; i < 5; i++) ok(throttle.push(`m${i}`));
    ok(!throttle.push("m5"), "the queue is bounded");
    equal(times.length, 3, "three go at once");
    equal(throttle.pending, 2);
    await waitFor(() => times.length === 5, { timeoutMs: 5_000, what: "the queued two" });
    for (let i = 3; i < times.length; i++) {
      ok(
        times[i] - times[i - 3] >= 1_000,
        `message ${i} sent ${times[i] - times[i - 3]} ms after ${i - 3}`,
      );
    }
  } finally {
    throttle.stop();
  }
  assertEquals(throttle.push("late"), false, "a stopped throttle refuses");
});
