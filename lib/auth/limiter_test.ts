import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { type Attempt, createLimiter, type Refusal } from "./limiter.ts";

function admitted(verdict: Attempt | Refusal, what: string): Attempt {
  if (!verdict.ok) throw new Error(`${what}: refused, retry after ${verdict.retryAfterSec} s`);
  return verdict;
}

Deno.test("[auth] limiter: 10 counted attempts per window, then Retry-After until it ends", () => {
  let t = 0;
  const limiter = createLimiter({ now: () => t });
  for (let i = 0; i < 10; i++) admitted(limiter.begin("user:a"), `attempt ${i + 1}`).count();
  deepEqual(limiter.begin("user:a"), { ok: false, retryAfterSec: 900 });
  t += 60_500;
  deepEqual(limiter.begin("user:a"), { ok: false, retryAfterSec: 840 });
  ok(limiter.begin("user:b").ok, "other keys are not affected");
  t = 900_000;
  admitted(limiter.begin("user:a"), "a new window").release();
  deepEqual(limiter.usage("user:a"), { counted: 0, inFlight: 0 });
});

Deno.test("[auth] limiter: an attempt in flight counts against the budget", () => {
  const limiter = createLimiter({ budget: 3, now: () => 0 });
  const flying = [1, 2, 3].map((i) => admitted(limiter.begin("k"), `attempt ${i}`));
  deepEqual(limiter.usage("k"), { counted: 0, inFlight: 3 });
  equal(limiter.begin("k").ok, false, "three in flight use up a budget of three");
  flying[0].release();
  deepEqual(limiter.usage("k"), { counted: 0, inFlight: 2 });
  const fourth = admitted(limiter.begin("k"), "a released slot is free again");
  flying[1].count();
  flying[1].count(); // a second verdict is ignored
  flying[1].release();
  deepEqual(limiter.usage("k"), { counted: 1, inFlight: 2 });
  flying[2].count();
  fourth.count();
  deepEqual(limiter.usage("k"), { counted: 3, inFlight: 0 });
  equal(limiter.begin("k").ok, false);
});

Deno.test("[auth] limiter: any full key refuses, and a refusal reserves nothing", () => {
  const limiter = createLimiter({ budget: 2, windowMs: 10_000, now: () => 0 });
  admitted(limiter.begin("user:a", "ip:1"), "1").count();
  admitted(limiter.begin("user:b", "ip:1"), "2").count();
  deepEqual(limiter.begin("user:c", "ip:1"), { ok: false, retryAfterSec: 10 });
  deepEqual(limiter.usage("user:c"), { counted: 0, inFlight: 0 }, "nothing reserved");
  admitted(limiter.begin("user:a", "ip:2"), "3").count();
  equal(limiter.begin("user:a").ok, false);
  limiter.reset("user:a");
  ok(limiter.begin("user:a").ok);
});

Deno.test("[auth] limiter: a window that ends with attempts in flight keeps them", () => {
  let t = 0;
  const limiter = createLimiter({ budget: 2, windowMs: 1_000, now: () => t });
  admitted(limiter.begin("k"), "1").count();
  const flying = admitted(limiter.begin("k"), "2");
  t = 1_000;
  deepEqual(limiter.usage("k"), { counted: 0, inFlight: 1 }, "new window, reservation kept");
  limiter.reset("k");
  deepEqual(limiter.usage("k"), { counted: 0, inFlight: 1 }, "reset keeps reservations");
  admitted(limiter.begin("k"), "3");
  equal(limiter.begin("k").ok, false);
  flying.count();
  deepEqual(limiter.usage("k"), { counted: 1, inFlight: 1 });
});

Deno.test("[auth] limiter: memory is bounded, oldest windows go first", () => {
  let t = 0;
  const limiter = createLimiter({ budget: 1, maxKeys: 100, now: () => t });
  const first = admitted(limiter.begin("first"), "first");
  first.count();
  for (let i = 0; i < 1000; i++) {
    t++;
    admitted(limiter.begin(`k${i}`), `k${i}`).count();
    ok(limiter.size <= 100);
  }
  equal(limiter.size, 100);
  ok(limiter.begin("first").ok, "evicted");
  equal(limiter.begin("k999").ok, false, "newest kept");
});

Deno.test("[auth] limiter: an evicted reservation does not release someone else's", () => {
  const limiter = createLimiter({ budget: 2, maxKeys: 1, now: () => 0 });
  const old = admitted(limiter.begin("a"), "a");
  admitted(limiter.begin("b"), "b evicts a");
  const fresh = admitted(limiter.begin("a"), "a again, evicting b");
  old.release();
  deepEqual(limiter.usage("a"), { counted: 0, inFlight: 1 }, "the new reservation stays");
  old.count(); // ignored: already ended
  fresh.count();
  deepEqual(limiter.usage("a"), { counted: 1, inFlight: 0 });
});

Deno.test("[auth] limiter: options must be positive", () => {
  throws(() => createLimiter({ budget: 0 }), /Cannot create a limiter: budget/);
  throws(() => createLimiter({ windowMs: -1 }), /Cannot create a limiter/);
  ok(createLimiter({ budget: Infinity }).begin("k").ok);
});
