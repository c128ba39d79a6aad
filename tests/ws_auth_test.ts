/**
 * The gateway inside the real app (`deno serve main.ts`): credentials and Origin at the
 * upgrade, channel policies per user, publish / ack and presence, status, metrics and
 * graceful shutdown.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { SignJWT } from "jose";
import { DEMO_PASSWORD, demoToken } from "./_auth.ts";
import { type AppProcess, startApp } from "./_server.ts";
import { fetchWithin } from "./_deadline.ts";
import { closeOf, denoWebSocket, messageOf, opened, openSocket, type TestSocket } from "./_ws.ts";

const SECRET = "an-auth-secret-for-tests-that-is-long-enough";

async function forge(claims: { sub: string; aud?: string; exp?: number; secret?: string }) {
  return await new SignJWT({ name: "demo", roles: ["user"] })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(claims.sub)
    .setIssuer("realtime")
    .setAudience(claims.aud ?? "realtime")
    .setIssuedAt()
    .setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 600)
    .sign(new TextEncoder().encode(claims.secret ?? SECRET));
}

/** Opens a raw upgrade with fetch to read the refusal status and body. */
async function refusal(origin: string, headers: Record<string, string>) {
  const res = await fetchWithin(`${origin}/api/ws`, {
    headers: {
      connection: "Upgrade",
      upgrade: "websocket",
      "sec-websocket-version": "13",
      "sec-websocket-key": btoa("0123456789abcdef"),
      ...headers,
    },
  });
  const body = await res.json();
  return {
    status: res.status,
    code: body.error.code as string,
    message: body.error.message as string,
  };
}

function errorCode(f: Record<string, unknown>) {
  return (f.data as { code: string }).code;
}

Deno.test({
  name: "[ws] the gateway inside the app: credentials, policies, presence, status, shutdown",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const app: AppProcess = await startApp({
      env: { AUTH_SECRET: SECRET, DEMO_PASSWORD, MARKET_TICK_MS: "100" },
    });
    const ws = app.origin.replace("http", "ws") + "/api/ws";
    const sockets: TestSocket[] = [];
    try {
      const good = await demoToken(app.origin);
      const demoId = (JSON.parse(atob(good.split(".")[1])) as { sub: string }).sub;

      await t.step(
        "refused at the upgrade: forged, expired, wrong audience, bad Origin",
        async () => {
          const forged = await forge({
            sub: demoId,
            secret: "not-the-secret-not-the-secret-not-it",
          });
          const expired = await forge({ sub: demoId, exp: Math.floor(Date.now() / 1000) - 60 });
          const audience = await forge({ sub: demoId, aud: "someone-else" });
          deepStrictEqual(
            (await refusal(app.origin, { authorization: `Bearer ${forged}` })).status,
            401,
          );
          equal(
            (await refusal(app.origin, { authorization: `Bearer ${expired}` })).code,
            "expired_token",
          );
          equal(
            (await refusal(app.origin, { authorization: `Bearer ${audience}` })).code,
            "wrong_audience",
          );
          const viaProtocol = await refusal(app.origin, {
            "sec-websocket-protocol": `realtime.v1.json, bearer.${forged}`,
          });
          equal(
            viaProtocol.status,
            401,
            "a bad token in the subprotocol is refused too, not anonymous",
          );
          const site = await refusal(app.origin, { origin: "https://evil.example" });
          deepStrictEqual([site.status, site.code], [403, "bad_origin"]);
          for (const r of [forged, expired, audience]) {
            ok(!JSON.stringify(app.output()).includes(r), "tokens never logged");
          }
        },
      );

      await t.step("a bearer header authenticates; presence, publish and ack work", async () => {
        const a = await openSocket(ws, { headers: { authorization: `Bearer ${good}` } });
        sockets.push(a);
        const hello = await a.next();
        deepStrictEqual(
          (hello.data as { user: { name: string; anonymous: boolean } }).user.name,
          "demo",
        );
        a.send({ type: "subscribe", id: "s", channel: "presence:lobby" });
        const subscribed = (await a.next((f) => f.type === "subscribed")).data as Record<
          string,
          unknown
        >;
        deepStrictEqual([subscribed.presence, typeof subscribed.epoch, subscribed.offset], [
          true,
          "string",
          0,
        ]);
        equal((await a.next((f) => f.type === "join")).channel, "presence:lobby");
        a.send({ type: "publish", id: "m1", channel: "presence:lobby", data: { text: "hello" } });
        // The ack follows the bus commit; the message its delivery: either may come first.
        const ack = await a.take((f) => f.type === "ack");
        const msg = await a.take((f) => f.type === "message");
        // The first message of an empty channel starts its stored epoch (the empty
        // channel's epoch is carried by no message).
        deepStrictEqual([msg.data, msg.from, msg.fromName, msg.offset], [
          { text: "hello" },
          demoId,
          "demo",
          1,
        ]);
        ok(typeof msg.epoch === "string" && msg.epoch !== subscribed.epoch);
        deepStrictEqual([ack.id, (ack.data as { offset: number }).offset], ["m1", 1]);
        // A retry of the same publish (same id, e.g. after a lost ack) is committed once.
        a.send({ type: "publish", id: "m1", channel: "presence:lobby", data: { text: "hello" } });
        const retried = await a.take((f) => f.type === "ack" && f.id === "m1");
        equal((retried.data as { offset: number }).offset, 1, "the first publish's offset");
        a.send({ type: "publish", id: "m3", channel: "presence:lobby", data: { text: "next" } });
        const next = await a.take((f) => f.type === "message" && f.channel === "presence:lobby");
        deepStrictEqual([next.offset, next.data], [2, { text: "next" }], "no duplicate in between");
        a.send({ type: "presence", id: "q", channel: "presence:lobby" });
        const presence = await a.next((f) => f.type === "presence");
        deepStrictEqual((presence.data as { count: number }).count, 1);
        a.send({ type: "publish", id: "m2", channel: "prices:BTC-USD", data: { price: 1 } });
        a.send({ type: "subscribe", id: "s2", channel: "user:someone-else" });
        a.send({ type: "subscribe", id: "s3", channel: `user:${demoId}` });
        deepStrictEqual(errorCode(await a.next((f) => f.type === "error")), "forbidden");
        deepStrictEqual(errorCode(await a.next((f) => f.type === "error")), "forbidden");
        equal((await a.next((f) => f.type === "subscribed")).channel, `user:${demoId}`);
      });

      await t.step(
        "a browser's bearer.<token> subprotocol authenticates and JSON is echoed",
        async () => {
          const b = denoWebSocket(ws, { protocols: ["realtime.v1.json", `bearer.${good}`] });
          // Listen at once: the first frame may come in the same task as the open event.
          const connected = messageOf(b, 10_000, "the connected frame");
          connected.catch(() => {}); // awaited below, unless the open fails first
          try {
            await opened(b);
            equal(b.protocol, "realtime.v1.json");
            equal(JSON.parse((await connected).data).data.user.name, "demo");
          } finally {
            const closed = closeOf(b);
            b.close();
            await closed;
          }
        },
      );

      await t.step("anonymous connections read public channels only", async () => {
        const anon = await openSocket(ws);
        sockets.push(anon);
        equal(((await anon.next()).data as { user: { anonymous: boolean } }).user.anonymous, true);
        anon.send({ type: "subscribe", id: "x", channel: "presence:lobby" });
        equal(errorCode(await anon.next((f) => f.type === "error")), "unauthorized");
        anon.send({ type: "subscribe", id: "p", channel: "prices:ETH-USD" });
        equal((await anon.next((f) => f.type === "subscribed")).id, "p");
      });

      await t.step("status and metrics describe the gateway", async () => {
        const status = await (await fetchWithin(`${app.origin}/api/websocket/status`)).json();
        ok(status.connections >= 2, `connections ${status.connections}`);
        // Served by `deno serve`, not the connection guard: the open-file limits still show.
        equal(status.net.guard, false);
        ok(status.net.openFiles.soft >= 1_024, JSON.stringify(status.net));
        ok(status.users >= 2);
        equal(typeof status.isolate, "string");
        equal(status.limits.maxFrameBytes, 65_536);
        deepStrictEqual(status.history.presence, { size: 50, ttlMs: 600_000 });
        ok(status.bus.commits > 0 && status.bus.delivered > 0, "bus counters");
        equal(typeof status.leases.market, "string");
        ok(status.messagesOut > 0 && status.bytesIn > 0);
        const metrics = await (await fetchWithin(`${app.origin}/metrics`)).text();
        match(metrics, /^realtime_connections \d+$/m);
        match(metrics, /^realtime_messages_total\{direction="in",type="publish"\} 4$/m);
        match(metrics, /^realtime_upgrades_refused_total\{reason="bad_origin"\} 1$/m);
        match(metrics, /realtime_broadcast_duration_seconds_count \d+/);
      });

      await t.step(
        "shutdown tells every socket 4000 (server restarting), then closes",
        async () => {
          const [a] = sockets;
          const closed = a.closed(20_000);
          await app.stop();
          const event = await closed;
          // `deno serve` closes sockets itself with 1001 on SIGTERM, racing our 4000: the
          // disconnect frame carries the documented code either way, and both reconnect.
          ok([4000, 1001].includes(event.code), `close code ${event.code}`);
          const notice = await a.next((f) => f.type === "disconnect");
          deepStrictEqual(notice.data, {
            code: 4000,
            reason: "server restarting",
            reconnect: true,
          });
        },
      );
    } finally {
      await app.stop();
      for (const s of sockets) await s.close();
    }
  },
});
