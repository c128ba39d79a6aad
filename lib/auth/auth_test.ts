import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { accountByUsernameKey, accountKey } from "../kv/keys.ts";
import { verifyLogin } from "./accounts.ts";
import { type Auth, type AuthOptions, createAuth } from "./auth.ts";
import type { AuthResult } from "./types.ts";

const ORIGIN = "http://localhost:8000";
const T0 = 1_700_000_000_000;

interface World {
  auth: Auth;
  kv: Deno.Kv;
  clock: { t: number };
}

async function world(
  fn: (w: World) => Promise<void>,
  options: Partial<AuthOptions> = {},
): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  const clock = { t: T0 };
  try {
    const auth = await createAuth({
      kv,
      pbkdf2Iterations: 1_000,
      now: () => clock.t,
      sleep: (ms) => { // the progressive delay passes on the fake clock
        clock.t += ms;
        return Promise.resolve();
      },
      ...options,
    });
    ok((await auth.createAccount({ username: "alice", password: "alice-password" })).ok);
    await fn({ auth, kv, clock });
  } finally {
    kv.close();
  }
}

function upgrade(headers: Record<string, string> = {}, url = `${ORIGIN}/api/ws`): Request {
  return new Request(url, { headers: { upgrade: "websocket", ...headers } });
}

function outcome(result: AuthResult): string {
  return result.ok
    ? `ok ${result.principal.via} ${result.principal.name}`
    : `${result.status} ${result.code}`;
}

async function signIn(auth: Auth, password = "alice-password"): Promise<string> {
  const result = await auth.login(new Request(`${ORIGIN}/login`), "alice", password);
  if (!result.ok) throw new Error(`login failed: ${result.code}`);
  return result.setCookie.split(";")[0]; // "rt_session=…"
}

Deno.test("[auth] upgrade: no credentials → anonymous", async () => {
  await world(async ({ auth }) => {
    const a = await auth.authenticateUpgrade(upgrade());
    const b = await auth.authenticateUpgrade(upgrade({ origin: ORIGIN }));
    ok(a.ok && b.ok);
    match(a.principal.userId, /^anon:[A-Za-z0-9_-]{16}$/);
    ok(a.principal.userId !== b.principal.userId, "each anonymous connection is distinct");
    deepEqual({ ...a.principal, userId: "" }, {
      userId: "",
      name: "anonymous",
      anonymous: true,
      via: "anonymous",
      expiresAt: null,
      roles: [],
    });
  });
});

Deno.test("[auth] upgrade: bearer via Authorization header and via subprotocol", async () => {
  await world(async ({ auth, clock }) => {
    const account = await auth.findAccountByUsername("alice");
    const { token, expiresAt } = await auth.issueToken(account!);
    equal(expiresAt, T0 + 900_000);
    clock.t += 1000;
    const viaHeader = await auth.authenticateUpgrade(
      upgrade({ authorization: `Bearer ${token}`, origin: ORIGIN }),
    );
    equal(outcome(viaHeader), "ok token alice");
    ok(viaHeader.ok);
    equal(viaHeader.principal.userId, account!.id);
    equal(viaHeader.principal.expiresAt, expiresAt);
    deepEqual(viaHeader.principal.roles, ["user"]);
    const viaProtocol = await auth.authenticateUpgrade(
      upgrade({ "sec-websocket-protocol": `realtime.v1.json, bearer.${token}`, origin: ORIGIN }),
    );
    equal(outcome(viaProtocol), "ok token alice");
  });
});

Deno.test("[auth] upgrade: a presented credential that fails is never anonymous", async () => {
  await world(async ({ auth, clock }) => {
    const { token } = await auth.issueToken((await auth.findAccountByUsername("alice"))!);
    const bad = token.slice(0, -4) + "AAAA";
    equal(
      outcome(await auth.authenticateUpgrade(upgrade({ authorization: `Bearer ${bad}` }))),
      "401 invalid_token",
    );
    equal(
      outcome(await auth.authenticateUpgrade(upgrade({ authorization: "Basic YTpi" }))),
      "401 invalid_token",
    );
    equal(
      outcome(
        await auth.authenticateUpgrade(upgrade({ "sec-websocket-protocol": `bearer.${bad}` })),
      ),
      "401 invalid_token",
    );
    clock.t += 906_000;
    const expired = await auth.authenticateUpgrade(upgrade({ authorization: `Bearer ${token}` }));
    equal(outcome(expired), "401 expired_token");
    ok(!expired.ok && !expired.message.includes(token), "the token is not echoed");

    const unknown = await auth.authenticateUpgrade(
      upgrade({ cookie: `rt_session=${"x".repeat(43)}` }),
    );
    equal(outcome(unknown), "401 invalid_session");
    equal(
      outcome(await auth.authenticateUpgrade(upgrade({ cookie: "rt_session=garbage" }))),
      "401 invalid_session",
    );
    equal(
      outcome(await auth.authenticateUpgrade(upgrade({ cookie: "rt_session=" }))),
      "ok anonymous anonymous",
    );
  });
});

Deno.test("[auth] upgrade: the Origin is checked before any credential", async () => {
  await world(async ({ auth }) => {
    const { token } = await auth.issueToken((await auth.findAccountByUsername("alice"))!);
    for (const origin of ["https://evil.example", "null", "http://localhost:9999"]) {
      const r = await auth.authenticateUpgrade(
        upgrade({ origin, authorization: `Bearer ${token}` }),
      );
      equal(outcome(r), "403 bad_origin", origin);
    }
  });
  await world(async ({ auth }) => {
    equal(
      outcome(await auth.authenticateUpgrade(upgrade({ origin: "https://app.example" }))),
      "ok anonymous anonymous",
    );
    equal(
      outcome(await auth.authenticateUpgrade(upgrade({ origin: "https://evil.example" }))),
      "403 bad_origin",
    );
  }, { allowedOrigins: ["https://app.example"] });
});

Deno.test("[auth] sessions: login cookie, principal, expiry by the clock, logout", async () => {
  await world(async ({ auth, clock }) => {
    const login = await auth.login(new Request(`${ORIGIN}/login`), "ALICE", "alice-password");
    ok(login.ok);
    match(
      login.setCookie,
      /^rt_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=604800$/,
    );
    equal(login.principal.expiresAt, T0 + 604_800_000);
    const cookie = login.setCookie.split(";")[0];

    const principal = await auth.sessionFromRequest(upgrade({ cookie }));
    deepEqual(principal, login.principal);
    equal(principal?.via, "cookie");
    equal(
      outcome(await auth.authenticateUpgrade(upgrade({ cookie, origin: ORIGIN }))),
      "ok cookie alice",
    );

    clock.t += 604_800_000;
    equal(await auth.sessionFromRequest(upgrade({ cookie })), null);
    equal(outcome(await auth.authenticateUpgrade(upgrade({ cookie }))), "401 invalid_session");

    clock.t = T0;
    const again = await signIn(auth);
    ok(await auth.sessionFromRequest(upgrade({ cookie: again })));
    const cleared = await auth.logout(upgrade({ cookie: again }));
    match(cleared, /^rt_session=; Path=\/; HttpOnly; SameSite=Lax; Max-Age=0/);
    equal(await auth.sessionFromRequest(upgrade({ cookie: again })), null);
    equal(
      outcome(await auth.authenticateUpgrade(upgrade({ cookie: again }))),
      "401 invalid_session",
    );
    match(await auth.logout(upgrade()), /Max-Age=0/, "logout without a session is fine");
  });
});

Deno.test("[auth] sessions: Secure on https, custom TTL, deleted account", async () => {
  await world(async ({ auth, kv }) => {
    const login = await auth.login(
      new Request("https://rt.example/login"),
      "alice",
      "alice-password",
    );
    ok(login.ok);
    match(login.setCookie, /Max-Age=60; Secure$/);
    const cookie = login.setCookie.split(";")[0];
    const account = await auth.findAccountByUsername("alice");
    await kv.atomic().delete(accountKey(account!.id)).delete(accountByUsernameKey("alice"))
      .commit();
    equal(outcome(await auth.authenticateUpgrade(upgrade({ cookie }))), "401 invalid_session");
  }, { sessionTtlSec: 60 });
});

Deno.test("[auth] login: generic failures, 429 per username and address and per address", async () => {
  await world(async ({ auth, clock }) => {
    const req = new Request(`${ORIGIN}/login`);
    const wrong = await auth.login(req, "alice", "nope-nope", { ip: "10.0.0.1" });
    const nobody = await auth.login(req, "nobody", "nope-nope", { ip: "10.0.0.1" });
    deepEqual(wrong, nobody, "an unknown user looks exactly like a wrong password");
    deepEqual(wrong, {
      ok: false,
      status: 401,
      code: "invalid_credentials",
      message: "Wrong username or password",
    });

    // one failure above, nine more from the same address: ten for "alice" from 10.0.0.1
    for (let i = 0; i < 9; i++) await auth.login(req, "alice", "nope-nope", { ip: "10.0.0.1" });
    const limited = await auth.login(req, "Alice", "alice-password", { ip: "10.0.0.1" });
    equal(limited.ok ? "ok" : `${limited.status} ${limited.code}`, "429 too_many_attempts");
    equal(limited.ok ? 0 : limited.retryAfterSec, 900);
    ok((await auth.login(req, "alice", "alice-password", { ip: "10.2.0.1" })).ok, "elsewhere");
    clock.t += 900_000;
    ok((await auth.login(req, "alice", "alice-password", { ip: "10.0.0.1" })).ok, "window over");

    for (let i = 0; i < 30; i++) {
      await auth.verifyCredentials(`user${i}`, "nope-nope", { ip: "10.9.9.9" });
    }
    const byIp = await auth.verifyCredentials("alice", "alice-password", { ip: "10.9.9.9" });
    equal(byIp.ok ? "ok" : byIp.code, "too_many_attempts");
    ok((await auth.verifyCredentials("alice", "alice-password", { ip: "10.9.9.8" })).ok);
  });
});

Deno.test("[auth] login: 40 concurrent wrong guesses → 10 hashed, 30 refused unhashed", async () => {
  let hashed = 0;
  await world(async ({ auth }) => {
    const req = new Request(`${ORIGIN}/login`);
    hashed = 0;
    // Real concurrency: all 40 start before any hash (real PBKDF2) finishes.
    const results = await Promise.all(
      Array.from({ length: 40 }, () => auth.login(req, "alice", "nope-nope", { ip: "10.5.5.5" })),
    );
    const statuses = results.map((r) => r.ok ? 200 : r.status);
    equal(hashed, 10, "only the budget was hashed");
    equal(statuses.filter((s) => s === 401).length, 10);
    equal(statuses.filter((s) => s === 429).length, 30);
    // The same through POST /api/token's path and the account page's path.
    const token = await auth.verifyCredentials("alice", "alice-password", { ip: "10.5.5.5" });
    equal(token.ok ? 200 : token.status, 429);
    equal(hashed, 10);
  }, {
    verifyLogin: (...args) => {
      hashed++;
      return verifyLogin(...args);
    },
  });
});

Deno.test("[auth] login: an attacker hammering a name never locks its owner out", async () => {
  const delays: number[] = [];
  await world(async ({ auth, clock }) => {
    const req = new Request(`${ORIGIN}/login`);
    // 30 addresses × 10 wrong guesses each: every address runs out, the owner does not.
    for (let round = 0; round < 3; round++) {
      for (let a = 0; a < 30; a++) {
        const ip = `203.0.113.${a}`;
        for (let i = 0; i < 10; i++) await auth.login(req, "alice", `guess-${round}-${i}`, { ip });
        const more = await auth.login(req, "alice", "alice-password", { ip });
        equal(more.ok ? 200 : more.status, 429, `address ${a} has used its budget`);
      }
      delays.length = 0;
      const before = clock.t;
      const owner = await auth.login(req, "alice", "alice-password", { ip: `198.51.100.${round}` });
      ok(owner.ok, `round ${round}: the owner signs in from a clean address`);
      ok(clock.t - before <= 3_000, `round ${round}: delayed ${clock.t - before} ms at most 3 s`);
      equal(delays.at(-1), 3_000);
      clock.t += 900_000; // the attackers' addresses come back after their window
    }
  }, {
    sleep: (ms) => {
      delays.push(ms);
      return Promise.resolve();
    },
  });
});

Deno.test("[auth] login: a success clears that address's failures for the name", async () => {
  await world(async ({ auth }) => {
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 9; i++) {
        await auth.verifyCredentials("alice", "wrong-pass", { ip: "10.7.7.7" });
      }
      ok(
        (await auth.verifyCredentials("alice", "alice-password", { ip: "10.7.7.7" })).ok,
        `round ${round}`,
      );
    }
  }, { loginLimits: { perIp: 1000 } });
});

Deno.test("[auth] tokens: shared secret in KV, AUTH_SECRET, anonymous refused", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const a = await createAuth({ kv, pbkdf2Iterations: 1_000 });
    const b = await createAuth({ kv, pbkdf2Iterations: 1_000 });
    equal(a.secretSource, "kv-created");
    equal(b.secretSource, "kv-existing");
    ok((await a.createAccount({ username: "bob", password: "bob-password" })).ok);
    const { token } = await a.issueToken((await a.findAccountByUsername("bob"))!);
    equal(outcome(await b.verifyAccessToken(token)), "ok token bob", "another isolate agrees");

    const env = await createAuth({ kv, secret: "s".repeat(40), pbkdf2Iterations: 1_000 });
    equal(env.secretSource, "env");
    equal(outcome(await env.verifyAccessToken(token)), "401 invalid_token");
    throws(() => a.issueToken(a.anonymous()), /Cannot issue a token: the principal is anonymous/);
  } finally {
    kv.close();
  }
});

Deno.test("[auth] tokens: a token for a session principal carries its name and roles", async () => {
  await world(async ({ auth }) => {
    const cookie = await signIn(auth);
    const principal = await auth.sessionFromRequest(upgrade({ cookie }));
    const { token } = await auth.issueToken(principal!);
    const result = await auth.verifyAccessToken(token);
    ok(result.ok);
    equal(result.principal.userId, principal!.userId);
    equal(result.principal.via, "token");
  }, { tokenTtlSec: 60 });
});
