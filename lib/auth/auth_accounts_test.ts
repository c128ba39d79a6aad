/** Sign-up, password change and password confirmation of `createAuth()` (auth.ts). */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { accountByUsernameKey, sessionByUserPrefix } from "../kv/keys.ts";
import { verifyLogin } from "./accounts.ts";
import { type Auth, type AuthOptions, createAuth } from "./auth.ts";
import type { Principal } from "./types.ts";

const ORIGIN = "http://localhost:8000";
const T0 = 1_700_000_000_000;
const STRONG = "violet-harbor-lantern";

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
    await fn({ auth, kv, clock });
  } finally {
    kv.close();
  }
}

function post(path: string, cookie?: string): Request {
  return new Request(`${ORIGIN}${path}`, {
    method: "POST",
    headers: cookie ? { cookie } : {},
  });
}

async function countKeys(kv: Deno.Kv, prefix: Deno.KvKey): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix })) n++;
  return n;
}

async function accounts(kv: Deno.Kv): Promise<number> {
  return await countKeys(kv, ["account"]);
}

async function signUp(auth: Auth, username: string, password = STRONG, ip = "10.0.0.1") {
  return await auth.signUp(post("/signup"), { username, password }, { ip });
}

/** Signs `username` up and returns its principal and cookie. */
async function newUser(auth: Auth, username: string): Promise<{ user: Principal; cookie: string }> {
  const result = await signUp(auth, username, STRONG, `10.1.${username.length}.1`);
  if (!result.ok) throw new Error(`sign-up failed: ${result.code}`);
  return { user: result.principal, cookie: result.setCookie.split(";")[0] };
}

Deno.test("[auth] signUp: creates the account and a session", async () => {
  await world(async ({ auth, kv }) => {
    const result = await signUp(auth, "  Carol_2 ");
    ok(result.ok, JSON.stringify(result));
    equal(result.account.username, "carol_2");
    equal(result.principal.name, "carol_2");
    equal(result.principal.userId, result.account.id);
    match(result.setCookie, /^rt_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax/);
    const session = await auth.authenticateSession(
      new Request(ORIGIN, { headers: { cookie: result.setCookie.split(";")[0] } }),
    );
    equal(session?.ok && session.principal.name, "carol_2");
    equal((await auth.listSessions(result.account.id)).length, 1);
    equal((await auth.verifyCredentials("CAROL_2", STRONG)).ok, true);
    equal((await kv.get(accountByUsernameKey("carol_2"))).value, result.account.id);
  });
});

Deno.test("[auth] signUp: bad input is refused with a field and nothing is created", async () => {
  await world(async ({ auth, kv }) => {
    ok((await signUp(auth, "taken")).ok);
    const cases: [string, string, number, string, string][] = [
      ["TAKEN", STRONG, 409, "username_taken", "username"],
      ["bob\u0000", STRONG, 400, "invalid_username", "username"],
      ["<script>", STRONG, 400, "invalid_username", "username"],
      ["ab", STRONG, 400, "invalid_username", "username"],
      ["dave", "short-pw", 400, "weak_password", "password"],
      ["dave", "password123", 400, "weak_password", "password"],
      ["dave-the-great", "Dave-The-Great", 400, "weak_password", "password"],
      ["dave", "x".repeat(1025), 400, "weak_password", "password"],
    ];
    for (const [username, password, status, code, field] of cases) {
      const r = await signUp(auth, username, password);
      ok(!r.ok, username);
      deepEqual([r.status, r.code, r.field], [status, code, field], JSON.stringify(username));
      equal(r.message.includes(password), false, "the password is never echoed");
    }
    const control = await signUp(auth, "bob\n");
    match(control.ok ? "created" : control.message, /cannot contain control characters/);
    const html = await signUp(auth, "<script>alert(1)</script>");
    match(html.ok ? "created" : html.message, /cannot contain HTML/);
    equal(await accounts(kv), 1, "only the first account exists");
    equal(await countKeys(kv, ["session"]), 1, "no session for a refused sign-up");
  });
});

Deno.test("[auth] signUp: per-address limit, counted before hashing, by the clock", async () => {
  await world(async ({ auth, kv, clock }) => {
    for (let i = 0; i < 3; i++) ok((await signUp(auth, `user${i}`, STRONG, "10.9.9.9")).ok);
    const over = await signUp(auth, "user3", STRONG, "10.9.9.9");
    ok(!over.ok);
    deepEqual([over.status, over.code, over.field], [429, "too_many_signups", null]);
    equal(over.retryAfterSec, 3600);
    match(over.message, /Too many accounts were created from your address; try again in 60 min/);
    equal(await findName(auth, "user3"), false, "nothing created over the limit");
    ok((await signUp(auth, "user3", STRONG, "10.9.9.10")).ok, "another address is counted apart");
    // Invalid input is refused before counting: it does not use the address's budget.
    ok(!(await signUp(auth, "x", STRONG, "10.8.8.8")).ok);
    ok(!(await signUp(auth, "user4", "password", "10.8.8.8")).ok);
    ok(!(await signUp(auth, "user0", STRONG, "10.8.8.8")).ok, "taken: not counted");
    for (let i = 5; i < 8; i++) ok((await signUp(auth, `user${i}`, STRONG, "10.8.8.8")).ok);
    // IPv6 is counted per /64: rotating addresses inside one subnet does not help.
    for (let i = 1; i <= 3; i++) ok((await signUp(auth, `six${i}`, STRONG, `2001:db8:7::${i}`)).ok);
    const rotated = await signUp(auth, "six4", STRONG, "2001:db8:7:0:ffff::4");
    equal(rotated.ok ? "created" : rotated.code, "too_many_signups");
    clock.t += 3600_000;
    ok((await signUp(auth, "user9", STRONG, "10.9.9.9")).ok, "a new window after an hour");
    equal(await accounts(kv), 11);
  }, { signupLimits: { perIp: 3 } });
});

async function findName(auth: Auth, name: string): Promise<boolean> {
  return (await auth.findAccountByUsername(name)) !== null;
}

Deno.test("[auth] signUp: 10 concurrent sign-ups from one address → the limit of 3", async () => {
  await world(async ({ auth, kv }) => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => signUp(auth, `burst${i}`, STRONG, "10.6.6.6")),
    );
    equal(results.filter((r) => r.ok).length, 3);
    equal(results.filter((r) => !r.ok && r.code === "too_many_signups").length, 7);
    equal(await accounts(kv), 3);
  }, { signupLimits: { perIp: 3 } });
});

Deno.test("[auth] signUp: concurrent sign-ups for one name: exactly one wins", async () => {
  await world(async ({ auth, kv }) => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => signUp(auth, "Race", `${STRONG}-${i}`, `10.2.0.${i}`)),
    );
    const winners = results.filter((r) => r.ok);
    equal(winners.length, 1);
    for (const r of results) if (!r.ok) deepEqual([r.status, r.code], [409, "username_taken"]);
    equal(await accounts(kv), 1);
    equal(await countKeys(kv, ["session"]), 1);
  }, { signupLimits: { perIp: 100 } });
});

Deno.test("[auth] changePassword: revokes the other sessions, keeps this one", async () => {
  await world(async ({ auth, kv }) => {
    const { user, cookie } = await newUser(auth, "erin");
    const others = [];
    for (let i = 0; i < 3; i++) {
      const r = await auth.login(post("/login"), "erin", STRONG);
      ok(r.ok);
      others.push(r.setCookie.split(";")[0]);
    }
    const bystander = await newUser(auth, "frank");
    const next = "quiet-meadow-compass";
    const result = await auth.changePassword(post("/account", cookie), user, {
      current: STRONG,
      password: next,
    });
    deepEqual(result, { ok: true, revokedSessions: 3 });
    const alive = async (c: string) =>
      (await auth.sessionFromRequest(new Request(ORIGIN, { headers: { cookie: c } }))) !== null;
    equal(await alive(cookie), true, "the current session is kept");
    for (const c of others) equal(await alive(c), false, "other sessions are revoked");
    equal(await alive(bystander.cookie), true, "other users are untouched");
    equal(await countKeys(kv, sessionByUserPrefix(user.userId)), 1);
    equal((await auth.verifyCredentials("erin", STRONG)).ok, false, "the old password is gone");
    equal((await auth.verifyCredentials("erin", next)).ok, true);
  });
});

Deno.test("[auth] changePassword: wrong current or weak new → refused, nothing changes", async () => {
  await world(async ({ auth }) => {
    const { user, cookie } = await newUser(auth, "gina");
    const second = await auth.login(post("/login"), "gina", STRONG);
    ok(second.ok);
    const change = (current: string, password: string) =>
      auth.changePassword(post("/account", cookie), user, { current, password });
    const wrong = await change("not-the-password", "quiet-meadow-compass");
    ok(!wrong.ok);
    deepEqual([wrong.status, wrong.code, wrong.field], [401, "invalid_credentials", "current"]);
    equal(wrong.message, "The current password is wrong");
    for (const weak of ["short", "password1234", "GINA", STRONG]) {
      const r = await change(STRONG, weak);
      ok(!r.ok, weak);
      deepEqual([r.status, r.code, r.field], [400, "weak_password", "password"], weak);
    }
    equal((await auth.verifyCredentials("gina", STRONG)).ok, true, "password unchanged");
    equal((await auth.listSessions(user.userId)).length, 2, "no session revoked");
  });
});

Deno.test("[auth] changePassword and confirmPassword: under the failed-login limit", async () => {
  let hashed = 0;
  await world(async ({ auth }) => {
    const { user, cookie } = await newUser(auth, "hank");
    for (let i = 0; i < 2; i++) {
      const r = await auth.confirmPassword(user, "wrong-password", { ip: "10.3.3.3" });
      ok(!r.ok && r.status === 401);
    }
    hashed = 0;
    const limited = await auth.changePassword(post("/account", cookie), user, {
      current: STRONG,
      password: "quiet-meadow-compass",
    }, { ip: "10.3.3.3" });
    ok(!limited.ok);
    deepEqual([limited.status, limited.code, limited.field], [429, "too_many_attempts", "current"]);
    ok((limited.retryAfterSec ?? 0) > 0);
    equal(hashed, 0, "refused before hashing");
    // Only that address is refused: the owner elsewhere still confirms (password unchanged).
    ok((await auth.verifyCredentials("hank", STRONG, { ip: "10.4.4.4" })).ok);
    equal(hashed, 1);
  }, {
    loginLimits: { perUsernameAndIp: 2 },
    verifyLogin: (...args) => {
      hashed++;
      return verifyLogin(...args);
    },
  });
});

Deno.test("[auth] confirmPassword: the right password of this very user", async () => {
  await world(async ({ auth }) => {
    const { user } = await newUser(auth, "ivan");
    const ok1 = await auth.confirmPassword(user, STRONG);
    ok(ok1.ok);
    equal(ok1.account.id, user.userId);
    const stale = { ...user, userId: "01SOMEONEELSE" };
    const r = await auth.confirmPassword(stale, STRONG);
    ok(!r.ok && r.status === 401, "a principal whose id no longer matches the name is refused");
  });
});
