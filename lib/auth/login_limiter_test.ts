import { deepEqual, equal, ok } from "node:assert/strict";
import { createLoginLimiter, type LoginLimiterOptions, type LoginPass } from "./login_limiter.ts";

/** A limiter with a fake clock and a sleep that records delays and advances the clock. */
function fakeWorld(options: LoginLimiterOptions = {}) {
  const clock = { t: 0 };
  const slept: number[] = [];
  const limiter = createLoginLimiter({
    now: () => clock.t,
    sleep: (ms) => {
      slept.push(ms);
      clock.t += ms;
      return Promise.resolve();
    },
    ...options,
  });
  return { limiter, clock, slept };
}

async function pass(
  limiter: ReturnType<typeof createLoginLimiter>,
  name: string,
  ip: string,
): Promise<LoginPass> {
  const gate = await limiter.enter(name, ip);
  if (!gate.ok) throw new Error(`${name} from ${ip}: refused, retry after ${gate.retryAfterSec}`);
  return gate;
}

Deno.test("[auth] login limiter: 40 concurrent guesses from one address → 10 evaluated", async () => {
  const { limiter } = fakeWorld();
  let hashed = 0;
  let release!: () => void;
  const slowHash = new Promise<void>((resolve) => release = resolve);
  // Every admitted attempt "hashes" until all 40 have arrived: they are truly concurrent.
  const attempts = Array.from({ length: 40 }, async () => {
    const gate = await limiter.enter("alice", "10.0.0.1");
    if (!gate.ok) return `429 ${gate.retryAfterSec}`;
    hashed++;
    await slowHash;
    gate.fail();
    return "401";
  });
  release();
  const outcomes = await Promise.all(attempts);
  equal(hashed, 10);
  equal(outcomes.filter((o) => o === "401").length, 10);
  equal(outcomes.filter((o) => o === "429 900").length, 30);
  equal((await limiter.enter("alice", "10.0.0.1")).ok, false, "still refused afterwards");
});

Deno.test("[auth] login limiter: 30 attempts per address across usernames", async () => {
  const { limiter } = fakeWorld();
  for (let i = 0; i < 30; i++) (await pass(limiter, `user${i}`, "10.0.0.2")).fail();
  deepEqual(await limiter.enter("someone-else", "10.0.0.2"), { ok: false, retryAfterSec: 900 });
  ok((await limiter.enter("someone-else", "10.0.0.3")).ok, "another address is not affected");
});

Deno.test("[auth] login limiter: IPv6 addresses count per /64", async () => {
  const { limiter } = fakeWorld({ perUsernameAndIp: 3 });
  for (let i = 1; i <= 3; i++) (await pass(limiter, "alice", `2001:db8:1:2::${i}`)).fail();
  equal((await limiter.enter("alice", "2001:db8:1:2:ffff::9")).ok, false, "same /64");
  ok((await limiter.enter("alice", "2001:db8:1:3::1")).ok, "another /64");
});

Deno.test("[auth] login limiter: an attacker on many addresses never locks the owner out", async () => {
  const { limiter, clock, slept } = fakeWorld();
  // 200 wrong guesses for alice from 20 addresses (10 each, the pair budget).
  for (let a = 0; a < 20; a++) {
    for (let i = 0; i < 10; i++) (await pass(limiter, "alice", `203.0.113.${a}`)).fail();
    equal((await limiter.enter("alice", `203.0.113.${a}`)).ok, false, `address ${a} is done`);
  }
  deepEqual(slept.slice(0, 6), [250, 500, 1_000, 2_000, 3_000, 3_000], "doubling, capped");
  ok(slept.every((ms) => ms <= 3_000));
  equal(slept.length, 190, "every attempt after the first 10 failures waited");
  // The owner, from an address that did not fail: admitted after at most 3 s.
  const start = clock.t;
  const owner = await pass(limiter, "Alice", "198.51.100.7");
  equal(owner.delayMs, 3_000);
  equal(clock.t - start, 3_000);
  owner.succeed();
  // The window ends: no delay any more.
  clock.t += 900_000;
  equal((await pass(limiter, "alice", "198.51.100.7")).delayMs, 0);
});

Deno.test("[auth] login limiter: the delay grows with attempts in flight too", async () => {
  const { limiter } = fakeWorld({ perUsername: 2 });
  const gates = [];
  for (let i = 0; i < 5; i++) gates.push(await pass(limiter, "bob", `192.0.2.${i}`));
  deepEqual(gates.map((g) => g.delayMs), [0, 0, 250, 500, 1_000]);
  gates.forEach((g) => g.abandon());
  equal(await limiter.delayFor("bob"), 0, "abandoned attempts count nothing");
});

Deno.test("[auth] login limiter: a success clears its pair, not the address", async () => {
  const { limiter } = fakeWorld({ perUsernameAndIp: 3, perIp: 5 });
  for (let i = 0; i < 2; i++) (await pass(limiter, "carol", "10.1.1.1")).fail();
  (await pass(limiter, "carol", "10.1.1.1")).succeed();
  for (let i = 0; i < 2; i++) (await pass(limiter, "carol", "10.1.1.1")).fail();
  // Without the reset the pair would hold 4 failures (budget 3); the address holds 4 of 5.
  (await pass(limiter, "carol", "10.1.1.1")).fail();
  deepEqual(await limiter.enter("dave", "10.1.1.1"), { ok: false, retryAfterSec: 900 });
  const done = await pass(limiter, "carol", "10.1.1.2");
  done.succeed();
  done.fail(); // a second verdict is ignored
  ok((await limiter.enter("carol", "10.1.1.2")).ok);
});

Deno.test("[auth] login limiter: memory stays bounded under a flood of names", async () => {
  const { limiter } = fakeWorld({ maxKeys: 50, perIp: 1_000_000 });
  for (let i = 0; i < 5_000; i++) {
    (await pass(limiter, `n${i}`, `10.${i >> 8 & 255}.${i & 255}.1`)).fail();
    ok(limiter.size <= 150, `at most 50 keys per counter, ${limiter.size} after ${i + 1}`);
  }
  equal(limiter.size, 150);
});
