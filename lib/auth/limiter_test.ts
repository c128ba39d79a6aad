import { deepEqual, equal } from "node:assert/strict";
import { createLimiter } from "./limiter.ts";

Deno.test("[auth] limiter: 10 failures per window, then Retry-After until it ends", () => {
  let t = 0;
  const limiter = createLimiter({ now: () => t });
  for (let i = 0; i < 10; i++) {
    deepEqual(limiter.check("user:a"), { ok: true }, `attempt ${i + 1}`);
    limiter.fail("user:a");
  }
  deepEqual(limiter.check("user:a"), { ok: false, retryAfterSec: 900 });
  t += 60_500;
  deepEqual(limiter.check("user:a"), { ok: false, retryAfterSec: 840 });
  deepEqual(limiter.check("user:b"), { ok: true }, "other keys are not affected");
  t = 900_000;
  deepEqual(limiter.check("user:a"), { ok: true }, "a new window");
});

Deno.test("[auth] limiter: any blocked key blocks, reset forgets one key", () => {
  const limiter = createLimiter({ maxFailures: 2, windowMs: 10_000, now: () => 0 });
  limiter.fail("user:a", "ip:1");
  limiter.fail("user:b", "ip:1");
  deepEqual(limiter.check("user:c", "ip:1"), { ok: false, retryAfterSec: 10 });
  deepEqual(limiter.check("user:a", "ip:2"), { ok: true });
  limiter.fail("user:a");
  equal(limiter.check("user:a").ok, false);
  limiter.reset("user:a");
  equal(limiter.check("user:a").ok, true);
});

Deno.test("[auth] limiter: memory is bounded, oldest windows go first", () => {
  let t = 0;
  const limiter = createLimiter({ maxFailures: 1, maxKeys: 100, now: () => t });
  limiter.fail("first");
  for (let i = 0; i < 1000; i++) {
    t++;
    limiter.fail(`k${i}`);
    equal(limiter.size <= 100, true);
  }
  equal(limiter.size, 100);
  equal(limiter.check("first").ok, true, "evicted");
  equal(limiter.check("k999").ok, false, "newest kept");
});
