/**
 * Accounts for people through the real routes, in process (`createHandler(manifest)`):
 * sign-up (form and JSON), the sign-out page, the account page (password change,
 * deletion), with every refusal leaving nothing behind.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { accountKey } from "../lib/kv/keys.ts";
import { type InProcessApp, serveApp } from "./_app.ts";
import { openSocket } from "./_ws.ts";

const EVIL = "https://evil.example";
const LISTED = "https://dash.example.com";
const PASSWORD = "violet-harbor-lantern";

function form(fields: Record<string, string>): URLSearchParams {
  return new URLSearchParams(fields);
}

/** `rt_session=…` from a response's Set-Cookie. */
function cookieOf(res: Response): string {
  const pair = (res.headers.get("set-cookie") ?? "").split(";")[0];
  match(pair, /^rt_session=[A-Za-z0-9_-]{43}$/);
  return pair;
}

async function countAccounts(app: InProcessApp): Promise<number> {
  let n = 0;
  for await (const _ of app.services.kv.list({ prefix: ["account"] })) n++;
  return n;
}

async function countSessions(app: InProcessApp): Promise<number> {
  let n = 0;
  for await (const _ of app.services.kv.list({ prefix: ["session"] })) n++;
  return n;
}

function postForm(
  app: InProcessApp,
  path: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return app.request(path, {
    method: "POST",
    body: form(fields),
    headers: { origin: app.origin, ...headers },
    redirect: "manual",
  });
}

function postJson(
  app: InProcessApp,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return app.request("/api/accounts", {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json", ...headers },
  });
}

async function signUp(app: InProcessApp, username: string): Promise<string> {
  const res = await postForm(app, "/signup", { username, password: PASSWORD, next: "/" });
  equal(res.status, 303, `sign-up of ${username}`);
  await res.body?.cancel();
  return cookieOf(res);
}

async function page(app: InProcessApp, path: string, cookie?: string) {
  const res = await app.request(path, { headers: cookie ? { cookie } : {}, redirect: "manual" });
  return { res, html: await res.text() };
}

Deno.test({
  name: "[accounts] sign-up, sign-out page and account page over HTTP",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await using app = await serveApp({
      env: { ALLOWED_ORIGINS: LISTED, SIGNUPS_PER_HOUR_PER_IP: "1000" },
    });
    const start = await countAccounts(app); // the demo account

    await t.step("GET /signup renders the form with the sign-in form's classes", async () => {
      const { res, html } = await page(app, "/signup?next=%2Fmarkets");
      equal(res.status, 200);
      equal(res.headers.get("cache-control"), "no-store");
      match(html, /<title>Create an account · Realtime<\/title>/);
      match(html, /<form method="post" action="\/signup" class="login-form">/);
      match(html, /name="username" autocomplete="username"/);
      match(html, /type="password" name="password" autocomplete="new-password"/);
      match(html, /name="next" value="\/markets"/);
      match(html, /href="\/login\?next=%2Fmarkets"/);
    });

    await t.step("POST /signup creates the account, signs in, 303 to next", async () => {
      const res = await postForm(app, "/signup", {
        username: "Nadia",
        password: PASSWORD,
        next: "/?from=signup",
      });
      equal(res.status, 303);
      equal(res.headers.get("location"), "/?from=signup");
      match(res.headers.get("set-cookie") ?? "", /; HttpOnly; SameSite=Lax; Max-Age=604800/);
      const cookie = cookieOf(res);
      const home = await page(app, "/", cookie);
      match(home.html, /Signed in as <strong data-testid="user-name">nadia<\/strong>/);
      match(home.html, /<a href="\/account">Account<\/a>/);
      equal(await countAccounts(app), start + 1);
    });

    await t.step("bad sign-ups: a form error with the field, nothing created", async () => {
      const before = [await countAccounts(app), await countSessions(app)];
      const cases: [Record<string, string>, number, RegExp, string][] = [
        [{ username: "NADIA" }, 409, /The username nadia is already taken/, "username"],
        [{ password: "short-pw" }, 400, /at least 10 characters/, "password"],
        [{ password: "password123" }, 400, /commonly used passwords/, "password"],
        [
          { username: "omar-omar-omar", password: "Omar-Omar-Omar" },
          400,
          /same as the/,
          "password",
        ],
        [{ username: "bad\u0001name" }, 400, /cannot contain control characters/, "username"],
        [{ username: "bad\nname" }, 400, /cannot contain control characters/, "username"],
        [{ username: "<script>alert(1)</script>" }, 400, /cannot contain HTML/, "username"],
        [{ username: "no spaces" }, 400, /may only use letters/, "username"],
      ];
      for (const [fields, status, message, field] of cases) {
        const res = await postForm(app, "/signup", {
          username: "omar",
          password: PASSWORD,
          ...fields,
        });
        const what = JSON.stringify(fields);
        equal(res.status, status, what);
        equal(res.headers.get("set-cookie"), null, what);
        const html = await res.text();
        match(html, message, what);
        match(html, /<p class="form-error" role="alert" id="signup-error">/, what);
        const input = html.split(`<input id="signup-${field}"`)[1]?.split("/>")[0] ?? "";
        match(input, /aria-invalid="true" aria-describedby="signup-error /, what);
        equal(html.includes("<script>alert"), false, "the name is escaped when shown again");
      }
      deepEqual([await countAccounts(app), await countSessions(app)], before);
    });

    await t.step("cross-origin sign-ups are refused with 403, nothing created", async () => {
      const before = await countAccounts(app);
      for (const origin of [EVIL, LISTED, "null"]) {
        const res = await postForm(app, "/signup", { username: "mallory", password: PASSWORD }, {
          origin,
        });
        equal(res.status, 403, origin);
        match(await res.text(), /sent from another site and was refused/);
        const api = await postJson(app, { username: "mallory", password: PASSWORD }, { origin });
        equal(api.status, 403, origin);
        equal((await api.json()).error.code, "bad_origin");
        equal(api.headers.get("access-control-allow-origin"), null, "no CORS");
      }
      equal(await countAccounts(app), before);
    });

    await t.step("POST /api/accounts: 201 {id, username} with a session", async () => {
      const res = await postJson(app, { username: "Pia", password: PASSWORD }, {
        origin: app.origin,
      });
      equal(res.status, 201);
      equal(res.headers.get("cache-control"), "no-store");
      const body = await res.json();
      deepEqual(Object.keys(body).sort(), ["id", "username"]);
      equal(body.username, "pia");
      match(body.id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
      ok((await app.services.kv.get(accountKey(body.id))).value);
      const token = await app.request("/api/token", {
        method: "POST",
        headers: { cookie: cookieOf(res) },
      });
      equal(token.status, 200, "the cookie is a working session");
      await token.body?.cancel();
    });

    await t.step("POST /api/accounts: JSON errors with code, message and field", async () => {
      const before = await countAccounts(app);
      const cases: [unknown, number, string, string | null][] = [
        [{ username: "PIA", password: PASSWORD }, 409, "username_taken", "username"],
        [{ username: "quinn", password: "1234567890" }, 400, "weak_password", "password"],
        [{ username: "quinn\u0000", password: PASSWORD }, 400, "invalid_username", "username"],
        [{ username: "<b>quinn</b>", password: PASSWORD }, 400, "invalid_username", "username"],
        [{ username: "quinn" }, 400, "bad_request", null],
        ["not json", 400, "bad_request", null],
        ["", 400, "bad_request", null],
        [{ username: "quinn", password: "x".repeat(9000) }, 400, "bad_request", null],
      ];
      for (const [body, status, code, field] of cases) {
        const res = await postJson(app, body);
        const what = JSON.stringify(body).slice(0, 80);
        equal(res.status, status, what);
        const { error } = await res.json();
        deepEqual([error.code, error.field], [code, field], what);
        equal(typeof error.message, "string");
        equal(res.headers.get("set-cookie"), null);
      }
      equal(await countAccounts(app), before);
    });

    await t.step("concurrent sign-ups for one name: exactly one 201", async () => {
      const results = await Promise.all(
        Array.from(
          { length: 6 },
          (_, i) => postJson(app, { username: "race", password: `${PASSWORD}-${i}` }),
        ),
      );
      const statuses = results.map((r) => r.status).sort();
      await Promise.all(results.map((r) => r.body?.cancel()));
      deepEqual(statuses, [201, 409, 409, 409, 409, 409]);
    });

    await t.step("a sign-up posted while signed in ends the previous session", async () => {
      const before = await signUp(app, "xena");
      const res = await postForm(app, "/signup", { username: "yara", password: PASSWORD }, {
        cookie: before,
      });
      equal(res.status, 303);
      await res.body?.cancel();
      match((await page(app, "/", cookieOf(res))).html, /data-testid="user-name">yara</);
      equal((await page(app, "/account", before)).res.status, 303, "the old session ended");
    });

    await t.step("GET /logout asks before signing out; signed out it says so", async () => {
      const cookie = await signUp(app, "rosa");
      const asked = await page(app, "/logout", cookie);
      equal(asked.res.status, 200);
      match(asked.html, /<title>Sign out · Realtime<\/title>/);
      match(asked.html, /<h1>Sign out of rosa\?<\/h1>/);
      match(asked.html, /<form method="post" action="\/logout" class="login-form">/);
      match(asked.html, /<button type="submit">Sign out<\/button>/);
      const anonymous = await page(app, "/logout");
      equal(anonymous.res.status, 200);
      match(anonymous.html, /<h1>You are not signed in<\/h1>/);
      match(anonymous.html, /<a href="\/">Go to the markets<\/a>/);
      const refused = await postForm(app, "/logout", {}, { origin: EVIL, cookie });
      equal(refused.status, 403);
      match(await refused.text(), /sign-out was sent from another site/);
      const out = await postForm(app, "/logout", {}, { cookie });
      equal(out.status, 303);
      match(out.headers.get("set-cookie") ?? "", /^rt_session=; .*Max-Age=0/);
      const after = await page(app, "/logout", cookie);
      match(after.html, /You are not signed in/, "the session is gone");
    });

    await t.step("GET /account: signed out → 303 to sign in; signed in → the page", async () => {
      const anonymous = await page(app, "/account");
      equal(anonymous.res.status, 303);
      equal(anonymous.res.headers.get("location"), "/login?next=%2Faccount");
      const cookie = await signUp(app, "sven");
      const { res, html } = await page(app, "/account", cookie);
      equal(res.status, 200);
      match(html, /<title>Your account · Realtime<\/title>/);
      match(html, /Signed in as <strong class="account-name">sven<\/strong>/);
      match(html, /1 active session</);
      match(html, /<h2 id="change-title">Change password<\/h2>/);
      match(html, /<h2 id="delete-title">Delete account<\/h2>/);
      const signup = await page(app, "/signup", cookie);
      match(signup.html, /You are signed in as <strong>sven<\/strong>/);
      equal(signup.html.includes('action="/signup"'), false, "no form while signed in");
      const post = await postForm(app, "/account", { intent: "password" });
      equal(post.status, 303, "a POST without a session goes to sign in too");
      await post.body?.cancel();
    });

    await t.step("change password: wrong current or weak new → refused, unchanged", async () => {
      const cookie = await signUp(app, "tara");
      const cases: [Record<string, string>, number, RegExp][] = [
        [{ current: "not-the-password", password: "quiet-meadow-compass" }, 401, /is wrong/],
        [{ current: PASSWORD, password: "short" }, 400, /at least 10/],
        [{ current: PASSWORD, password: "qwertyuiop" }, 400, /commonly used/],
        [{ current: PASSWORD, password: PASSWORD }, 400, /must differ/],
      ];
      for (const [fields, status, message] of cases) {
        const res = await postForm(app, "/account", { intent: "password", ...fields }, {
          cookie,
        });
        equal(res.status, status, JSON.stringify(fields));
        const html = await res.text();
        match(html, message);
        match(html, /id="password-error"/);
      }
      const refused = await postForm(app, "/account", {
        intent: "password",
        current: PASSWORD,
        password: "quiet-meadow-compass",
      }, { cookie, origin: LISTED });
      equal(refused.status, 403);
      await refused.body?.cancel();
      equal((await app.services.auth.verifyCredentials("tara", PASSWORD)).ok, true);
    });

    await t.step("change password: other sessions are signed out, this one kept", async () => {
      const cookie = await signUp(app, "uma");
      const login = await postForm(app, "/login", { username: "uma", password: PASSWORD });
      const other = cookieOf(login);
      await login.body?.cancel();
      const res = await postForm(app, "/account", {
        intent: "password",
        current: PASSWORD,
        password: "quiet-meadow-compass",
      }, { cookie });
      equal(res.status, 303);
      equal(res.headers.get("location"), "/account?changed=1");
      await res.body?.cancel();
      const shown = await page(app, "/account?changed=1", cookie);
      equal(shown.res.status, 200, "this session still works");
      match(shown.html, /Your password was changed. 1 other session was signed out./);
      equal((await page(app, "/account", other)).res.status, 303, "the other is signed out");
      equal((await app.services.auth.verifyCredentials("uma", "quiet-meadow-compass")).ok, true);
    });

    await t.step("delete account: wrong password or cross-origin → refused, kept", async () => {
      const cookie = await signUp(app, "vera");
      const wrong = await postForm(app, "/account", {
        intent: "delete",
        password: "nope-nope-nope",
      }, {
        cookie,
      });
      equal(wrong.status, 401);
      match(await wrong.text(), /The current password is wrong/);
      const evil = await postForm(app, "/account", { intent: "delete", password: PASSWORD }, {
        cookie,
        origin: EVIL,
      });
      equal(evil.status, 403);
      await evil.body?.cancel();
      ok(await app.services.auth.findAccountByUsername("vera"), "the account is still there");
    });

    await t.step(
      "delete account: data gone, cookie cleared, sockets closed with 4500",
      async () => {
        const cookie = await signUp(app, "wade");
        const second = cookieOf(
          await postForm(app, "/login", { username: "wade", password: PASSWORD }),
        );
        const account = await app.services.auth.findAccountByUsername("wade");
        ok(account);
        const ws = await openSocket(`${app.origin.replace("http", "ws")}/api/ws`, {
          headers: { cookie: second },
        });
        try {
          const connected = await ws.next((f) => f.type === "connected");
          deepEqual((connected.data as { user: { id: string; name: string } }).user.id, account.id);
          const closed = ws.closed();
          const res = await postForm(app, "/account", { intent: "delete", password: PASSWORD }, {
            cookie,
          });
          equal(res.status, 200);
          match(res.headers.get("set-cookie") ?? "", /^rt_session=; .*Max-Age=0/);
          const html = await res.text();
          match(html, /<h1>Account deleted<\/h1>/);
          match(
            html,
            /<a href="\/login[^"]*">Sign in<\/a>/,
            "the header shows the visitor signed out",
          );
          equal(html.includes('data-testid="user-name"'), false);
          equal((await closed).code, 4500, "the user's open socket is closed");
        } finally {
          await ws.close();
        }
        equal(await app.services.auth.findAccountByUsername("wade"), null);
        equal((await app.services.kv.get(accountKey(account.id))).value, null);
        deepEqual(await app.services.auth.listSessions(account.id), []);
        equal((await page(app, "/account", second)).res.status, 303, "every session is gone");
        equal((await app.services.auth.verifyCredentials("wade", PASSWORD)).ok, false);
        const again = await postJson(app, { username: "wade", password: PASSWORD });
        equal(again.status, 201, "the name can be taken again");
        await again.body?.cancel();
      },
    );
  },
});

Deno.test({
  name: "[accounts] the per-address sign-up limit: 429 and nothing created",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using app = await serveApp({ env: { SIGNUPS_PER_HOUR_PER_IP: "2" } });
    await signUp(app, "first");
    const api = await postJson(app, { username: "second", password: PASSWORD });
    equal(api.status, 201);
    await api.body?.cancel();
    const before = await countAccounts(app);
    const res = await postForm(app, "/signup", { username: "third", password: PASSWORD });
    equal(res.status, 429);
    equal(res.headers.get("retry-after"), "3600");
    equal(res.headers.get("set-cookie"), null);
    match(
      await res.text(),
      /Too many accounts were created from your address; try again in 60 min/,
    );
    const json = await postJson(app, { username: "third", password: PASSWORD });
    equal(json.status, 429);
    deepEqual((await json.json()).error.code, "too_many_signups");
    equal(await countAccounts(app), before);
    equal(await app.services.auth.findAccountByUsername("third"), null);
  },
});
