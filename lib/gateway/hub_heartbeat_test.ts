/**
 * Heartbeat timing on a fake clock: pings, pong deadlines, expiry and idle closes happen
 * within one tick of when they are due, per connection, whatever its start time.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { anonymous, testHub, user } from "./_test_util.ts";
import { HEARTBEAT_TICK_MS } from "./hub.ts";

const START = 1_000_000;

/** Runs the hub's tick every HEARTBEAT_TICK_MS until `until` (relative to START). */
function tickUntil(ctx: ReturnType<typeof testHub>, until: number, step = HEARTBEAT_TICK_MS) {
  while (ctx.clock.now() + step <= START + until) {
    ctx.clock.advance(step);
    ctx.hub.heartbeat();
  }
}

/** When (relative to START) each frame of `type` arrived at a connection, recorded by `watch`. */
function watch(
  ctx: ReturnType<typeof testHub>,
  c: ReturnType<ReturnType<typeof testHub>["connect"]>,
) {
  const at: Record<string, number[]> = {};
  const send = c.t.send;
  c.t.send = (frame) => {
    send(frame);
    const type = String(c.t.frames.at(-1)?.type);
    (at[type] ??= []).push(ctx.clock.now() - START);
  };
  const close = c.t.close;
  c.t.close = (code, reason) => {
    close(code, reason);
    (at[`close ${code}`] ??= []).push(ctx.clock.now() - START);
  };
  return at;
}

Deno.test("[heartbeat] each connection is pinged at its own interval, within one tick", () => {
  const ctx = testHub({ limits: { pingIntervalMs: 2_000, pongTimeoutMs: 1_000 } });
  const conns = [0, 30, 70, 1_234].map((openAt) => {
    ctx.clock.advance(openAt - (ctx.clock.now() - START));
    const c = ctx.connect(user(`u${openAt}`));
    c.send({ type: "subscribe", channel: "room:r" });
    return { openAt, c, at: watch(ctx, c) };
  });
  // Every connection answers each ping 10 ms later.
  for (let t = 0; t < 9_000; t += 10) {
    tickUntil(ctx, t, 10);
    for (const { c } of conns) {
      const pings = c.t.ofType("ping").length;
      const pongs = c.conn.pingSentAt === null ? pings : pings - 1;
      if (pongs < pings && ctx.clock.now() - c.conn.pingSentAt! >= 10) c.send({ type: "pong" });
    }
  }
  for (const { openAt, at } of conns) {
    const expected = [1, 2, 3, 4].map((k) => openAt + k * 2_000).filter((t) => t <= 9_000);
    equal(at.ping.length, expected.length, `connection opened at ${openAt}: ${at.ping}`);
    at.ping.forEach((t, i) => {
      ok(
        t >= expected[i] && t <= expected[i] + 10,
        `ping ${i + 1} of the connection opened at ${openAt} at ${t}, due ${expected[i]}`,
      );
    });
    equal(at["close 4002"], undefined);
  }
});

Deno.test("[heartbeat] a silent connection is closed one tick after the pong deadline at most", () => {
  const ctx = testHub({ limits: { pingIntervalMs: 2_000, pongTimeoutMs: 1_000 } });
  const c = ctx.connect(user("u"));
  c.send({ type: "subscribe", channel: "room:r" });
  const at = watch(ctx, c);
  tickUntil(ctx, 5_000);
  deepStrictEqual(at.ping, [2_000]);
  deepStrictEqual(at["close 4002"], [3_050], "deadline 3 000 (strict), next tick 3 050");
  deepStrictEqual(c.t.closed, { code: 4002, reason: "no pong within 1000 ms" });
  equal(ctx.hub.stats().connections, 0);
});

Deno.test("[heartbeat] a pong deadline longer than the interval does not delay the next ping", () => {
  const ctx = testHub({ limits: { pingIntervalMs: 1_000, pongTimeoutMs: 5_000 } });
  const c = ctx.connect(user("u"));
  c.send({ type: "subscribe", channel: "room:r" });
  const at = watch(ctx, c);
  tickUntil(ctx, 1_000);
  ctx.clock.advance(20);
  c.send({ type: "pong" });
  tickUntil(ctx, 3_000, 10);
  deepStrictEqual(at.ping, [1_000, 2_000], "not held until the first ping's pong deadline");
});

Deno.test("[heartbeat] expiring notice and 4003 come within one tick of when they are due", () => {
  const ctx = testHub({ limits: { pingIntervalMs: 1e9 } });
  const c = ctx.connect(user("u", { expiresAt: START + 100_000 }));
  c.send({ type: "subscribe", channel: "room:r" });
  const at = watch(ctx, c);
  tickUntil(ctx, 200_000);
  deepStrictEqual(at.expiring, [40_000], "60 s before expiry");
  deepStrictEqual(at["close 4003"], [105_050], "after the 5 s grace (strict), next tick");
});

Deno.test("[heartbeat] a refresh to an earlier expiry moves the checks earlier", async () => {
  const ctx = testHub({
    limits: { pingIntervalMs: 1e9 },
    auth: {
      verifyAccessToken: () =>
        Promise.resolve({
          ok: true as const,
          principal: user("u", { expiresAt: START + 70_000 }),
        }),
    },
  });
  const c = ctx.connect(user("u", { expiresAt: START + 3_600_000 }));
  c.send({ type: "subscribe", channel: "room:r" });
  const at = watch(ctx, c);
  c.send({ type: "refresh", id: "r", token: "t" });
  await Promise.resolve();
  equal(c.t.ofType("refreshed").length, 1);
  tickUntil(ctx, 80_000);
  deepStrictEqual(at.expiring, [10_000]);
  deepStrictEqual(at["close 4003"], [75_050]);
});

Deno.test("[heartbeat] idle close within one tick; activity and subscriptions postpone it", () => {
  const ctx = testHub({ limits: { idleTimeoutMs: 10_000, pingIntervalMs: 1e9 } });
  const idle = ctx.connect(anonymous("anon:1"));
  const chatty = ctx.connect(anonymous("anon:2"));
  const subscribed = ctx.connect(anonymous("anon:3"));
  subscribed.send({ type: "subscribe", channel: "prices:A" });
  const idleAt = watch(ctx, idle);
  const chattyAt = watch(ctx, chatty);
  tickUntil(ctx, 6_000);
  chatty.send({ type: "ping" });
  tickUntil(ctx, 30_000);
  deepStrictEqual(idleAt["close 4501"], [10_050]);
  deepStrictEqual(chattyAt["close 4501"], [16_050], "10 s after its last message");
  equal(subscribed.t.closed, undefined);
});
