import { deepStrictEqual, equal } from "node:assert/strict";
import type { AuthResult, UpgradeAuthenticator } from "../auth/types.ts";
import { anonymous, testHub, user } from "./_test_util.ts";
import { type Admitted, createAdmission, type Refused } from "./admission.ts";

function upgrade(headers: Record<string, string> = {}): Request {
  return new Request("http://localhost/api/ws", {
    headers: { upgrade: "websocket", connection: "Upgrade", ...headers },
  });
}

const fakeAuth = (result: (req: Request) => AuthResult): UpgradeAuthenticator => ({
  authenticateUpgrade: (req) => Promise.resolve(result(req)),
  verifyAccessToken: () => Promise.reject(new Error("not used")),
});

async function refusal(r: Admitted | Refused) {
  if (r.ok) throw new Error("expected a refusal");
  return {
    status: r.response.status,
    retryAfter: r.response.headers.get("retry-after"),
    body: await r.response.json(),
  };
}

Deno.test("[admission] admits with the negotiated codec and echoes the subprotocol", async () => {
  const { hub } = testHub();
  const admit = createAdmission({
    hub,
    auth: fakeAuth(() => ({ ok: true, principal: anonymous() })),
  });
  const plain = await admit(upgrade(), "1.1.1.1");
  equal(plain.ok && plain.codec.name, "json");
  equal(plain.ok && plain.protocol, undefined);
  const packed = await admit(
    upgrade({ "sec-websocket-protocol": "bearer.abc, realtime.v1.msgpack, realtime.v1.json" }),
    "1.1.1.1",
  );
  equal(packed.ok && packed.codec.name, "msgpack");
  equal(packed.ok && packed.protocol, "realtime.v1.msgpack");
});

Deno.test("[admission] refusals: not an upgrade 400, unknown subprotocol 400, auth 401/403", async () => {
  const { hub } = testHub();
  const admit = createAdmission({
    hub,
    auth: fakeAuth((req) =>
      req.headers.get("origin") === "https://evil.example"
        ? {
          ok: false,
          status: 403,
          code: "bad_origin",
          message: "Cannot connect from https://evil.example",
        }
        : req.headers.get("authorization")
        ? { ok: false, status: 401, code: "expired_token", message: "the token has expired" }
        : { ok: true, principal: anonymous() }
    ),
  });
  const plain = await refusal(await admit(new Request("http://localhost/api/ws"), "ip"));
  equal(plain.status, 400);
  equal(plain.body.error.code, "not_websocket");
  const proto = await refusal(
    await admit(upgrade({ "sec-websocket-protocol": "graphql-ws" }), "ip"),
  );
  deepStrictEqual([proto.status, proto.body.error.code], [400, "bad_protocol"]);
  const origin = await refusal(await admit(upgrade({ origin: "https://evil.example" }), "ip"));
  deepStrictEqual([origin.status, origin.body.error.code], [403, "bad_origin"]);
  const token = await refusal(await admit(upgrade({ authorization: "Bearer x" }), "ip"));
  deepStrictEqual([token.status, token.body.error.code], [401, "expired_token"]);
  equal(hub.metrics.upgradesRefused.value({ reason: "bad_origin" }), 1);
});

Deno.test("[admission] upgrade rate per IP → 429 with Retry-After; global → 503", async () => {
  let now = 0;
  const { hub } = testHub({ limits: { upgradesPerSecondPerIp: 2, upgradesPerSecond: 5 } });
  const admit = createAdmission({
    hub,
    now: () => now,
    auth: fakeAuth(() => ({ ok: true, principal: anonymous() })),
  });
  for (let i = 0; i < 4; i++) equal((await admit(upgrade(), "a")).ok, true);
  const limited = await refusal(await admit(upgrade(), "a"));
  deepStrictEqual([limited.status, limited.body.error.code, limited.retryAfter], [
    429,
    "rate_limited",
    "1",
  ]);
  for (let i = 0; i < 5; i++) await admit(upgrade(), `ip${i}`);
  const busy = await refusal(await admit(upgrade(), "z"));
  deepStrictEqual([busy.status, busy.body.error.code], [503, "busy"]);
  now += 1_000;
  equal((await admit(upgrade(), "a")).ok, true, "refilled after a second");
});

Deno.test("[admission] connection caps per IP and per user → 429", async () => {
  const { hub, connect } = testHub({
    limits: { maxConnectionsPerIp: 2, maxConnectionsPerUser: 1 },
  });
  const admit = createAdmission({
    hub,
    auth: fakeAuth(() => ({ ok: true, principal: user("alice") })),
  });
  connect(user("alice"), undefined, "9.9.9.9");
  const perUser = await refusal(await admit(upgrade(), "1.2.3.4"));
  deepStrictEqual([perUser.status, perUser.body.error.code], [429, "too_many_connections"]);
  connect(anonymous(), undefined, "9.9.9.9");
  const perIp = await refusal(await admit(upgrade(), "9.9.9.9"));
  equal(perIp.status, 429);
  equal(perIp.body.error.message, "Cannot open more than 2 connections from one address");
});

Deno.test("[admission] with cluster-wide slots, the cap is theirs: reserved for users only", async () => {
  const { hub } = testHub({ limits: { maxConnectionsPerUser: 2 } });
  const asked: [string, number][] = [];
  let free = 1;
  const admit = createAdmission({
    hub,
    auth: fakeAuth((req) => ({
      ok: true,
      principal: req.headers.has("x-anon") ? anonymous() : user("alice"),
    })),
    slots: {
      reserve(userId, max) {
        asked.push([userId, max]);
        return Promise.resolve(free-- > 0);
      },
    },
  });
  equal((await admit(upgrade(), "1.2.3.4")).ok, true, "a slot was free (elsewhere: none here)");
  const full = await refusal(await admit(upgrade(), "1.2.3.4"));
  deepStrictEqual([full.status, full.body.error.code], [429, "too_many_connections"]);
  equal((await admit(upgrade({ "x-anon": "1" }), "1.2.3.4")).ok, true, "anonymous: no slot");
  deepStrictEqual(asked, [["alice", 2], ["alice", 2]]);
});
