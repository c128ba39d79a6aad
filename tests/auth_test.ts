/**
 * Sign-in, sessions, tokens and the Origin policy through the real app: its handler in
 * process over HTTP, and `deno serve main.ts` for what the process prints.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { decodeJwt } from "jose";
import { serveApp } from "./_app.ts";
import { fetchWithin } from "./_deadline.ts";
import { startApp } from "./_server.ts";

const DEMO_PASSWORD = "demo-password-for-tests";
/** Test-only work factor (PBKDF2_ITERATIONS) so logins are fast. */
const FAST = { PBKDF2_ITERATIONS: "1000" };

function form(fields: Record<string, string>): URLSearchParams {
  return new URLSearchParams(fields);
}

/** `rt_session=…` from a response's Set-Cookie, for the next request's Cookie header. */
function sessionCookie(res: Response): string {
  const setCookie = res.headers.get("set-cookie") ?? "";
  const pair = setCookie.split(";")[0];
  match(pair, /^rt_session=[A-Za-z0-9_-]{43}$/);
  return pair;
}

async function login(origin: string, password = DEMO_PASSWORD, username = "demo") {
  return await fetchWithin(`${origin}/login`, {
    method: "POST",
    body: form({ username, password, next: "/?from=login" }),
    redirect: "manual",
  });
}

async function postToken(
  origin: string,
  init: { body?: unknown; cookie?: string; origin?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (init.cookie) headers.cookie = init.cookie;
  if (init.origin) headers.origin = init.origin;
  return await fetchWithin(`${origin}/api/token`, {
    method: "POST",
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

Deno.test({
  name: "[auth] sign-in, sessions and tokens over HTTP",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const app = await serveApp({ env: { DEMO_PASSWORD, ...FAST } });
    const { origin } = app;
    try {
      await t.step("GET /login renders the form and keeps a same-site next", async () => {
        const res = await fetchWithin(`${origin}/login?next=%2Fmarkets%3Fx%3D1`);
        equal(res.status, 200);
        equal(res.headers.get("cache-control"), "no-store");
        const html = await res.text();
        match(html, /<form method="post" action="\/login"/);
        match(html, /name="username"/);
        match(html, /type="password" name="password"/);
        match(html, /name="next" value="\/markets\?x=1"/);
        const evil = await (await fetchWithin(`${origin}/login?next=https%3A%2F%2Fevil.example`))
          .text();
        match(evil, /name="next" value="\/"/);
        const slashes = await (await fetchWithin(`${origin}/login?next=%2F%2Fevil.example`)).text();
        match(slashes, /name="next" value="\/"/);
      });

      await t.step("POST /login → 303 to next with an HttpOnly, SameSite=Lax cookie", async () => {
        const res = await login(origin);
        equal(res.status, 303);
        equal(res.headers.get("location"), "/?from=login");
        const setCookie = res.headers.get("set-cookie") ?? "";
        match(setCookie, /^rt_session=[A-Za-z0-9_-]{43}; /);
        match(setCookie, /; HttpOnly(;|$)/);
        match(setCookie, /; SameSite=Lax(;|$)/);
        match(setCookie, /; Path=\/(;|$)/);
        match(setCookie, /; Max-Age=604800(;|$)/);
        equal(/Secure/.test(setCookie), false, "plain http: no Secure");
        await res.body?.cancel();
      });

      await t.step("wrong password or unknown user → 401, the same generic message", async () => {
        for (const [username, password] of [["demo", "wrong-password"], ["nobody", "whatever1"]]) {
          const res = await login(origin, password, username);
          equal(res.status, 401, username);
          equal(res.headers.get("set-cookie"), null);
          const html = await res.text();
          match(html, /Wrong username or password/);
          match(html, /<form method="post" action="\/login"/);
          match(html, /name="next" value="\/\?from=login"/, "next is kept");
        }
      });

      await t.step("a cross-site POST is refused with 403", async () => {
        const res = await fetchWithin(`${origin}/login`, {
          method: "POST",
          headers: { origin: "https://evil.example" },
          body: form({ username: "demo", password: DEMO_PASSWORD }),
          redirect: "manual",
        });
        equal(res.status, 403);
        equal(res.headers.get("set-cookie"), null);
        match(await res.text(), /sent from another site/);
        const same = await fetchWithin(`${origin}/login`, {
          method: "POST",
          headers: { origin },
          body: form({ username: "demo", password: DEMO_PASSWORD }),
          redirect: "manual",
        });
        equal(same.status, 303, "the app's own origin is fine");
        await same.body?.cancel();
        const token = await postToken(origin, {
          origin: "https://evil.example",
          body: { username: "demo", password: DEMO_PASSWORD },
        });
        equal(token.status, 403);
        equal((await token.json()).error.code, "bad_origin");
      });

      await t.step("POST /api/token with credentials in the body", async () => {
        const res = await postToken(origin, {
          body: { username: "demo", password: DEMO_PASSWORD },
        });
        equal(res.status, 200);
        equal(res.headers.get("cache-control"), "no-store");
        const { token, expiresAt } = await res.json();
        const claims = decodeJwt(token);
        equal(claims.name, "demo");
        equal(claims.aud, "realtime");
        equal(claims.iss, "realtime");
        deepEqual(claims.roles, ["user"]);
        equal(claims.exp! - claims.iat!, 900);
        equal(expiresAt, claims.exp! * 1000);

        const bad = await postToken(origin, { body: { username: "demo", password: "nope-nope" } });
        equal(bad.status, 401);
        deepEqual(await bad.json(), {
          error: { code: "invalid_credentials", message: "Wrong username or password" },
        });
        const malformed = await postToken(origin, { body: { username: "demo" } });
        equal(malformed.status, 400);
        equal((await malformed.json()).error.code, "bad_request");
        const nothing = await postToken(origin);
        equal(nothing.status, 401);
        equal((await nothing.json()).error.code, "unauthenticated");
      });

      await t.step("POST /api/token with the session cookie", async () => {
        const cookie = sessionCookie(await login(origin));
        const res = await postToken(origin, { cookie });
        equal(res.status, 200);
        const { token } = await res.json();
        equal(decodeJwt(token).name, "demo");
      });

      await t.step("/ with the cookie shows who is signed in", async () => {
        const cookie = sessionCookie(await login(origin));
        const html = await (await fetchWithin(`${origin}/`, { headers: { cookie } })).text();
        match(html, /Signed in as <strong[^>]*>demo<\/strong>/);
        match(html, /<form method="post" action="\/logout"/);
        const anonymous = await (await fetchWithin(`${origin}/`)).text();
        match(anonymous, /<a href="\/login">Sign in<\/a>/);
      });

      await t.step("POST /logout ends the session; GET /logout only asks", async () => {
        const cookie = sessionCookie(await login(origin));
        const res = await fetchWithin(`${origin}/logout`, {
          method: "POST",
          headers: { cookie, origin },
          redirect: "manual",
        });
        equal(res.status, 303);
        equal(res.headers.get("location"), "/");
        match(res.headers.get("set-cookie") ?? "", /^rt_session=; .*Max-Age=0/);
        const after = await postToken(origin, { cookie });
        equal(after.status, 401);
        equal((await after.json()).error.code, "invalid_session");
        const get = await fetchWithin(`${origin}/logout`, { headers: { cookie } });
        equal(get.status, 200, "GET /logout is a page that never signs out by itself");
        match(await get.text(), /You are not signed in/);
        const crossSite = await fetchWithin(`${origin}/logout`, {
          method: "POST",
          headers: { origin: "https://evil.example" },
          redirect: "manual",
        });
        equal(crossSite.status, 403);
        await crossSite.body?.cancel();
      });

      await t.step("ten failures for one username → 429 with Retry-After", async () => {
        for (let i = 0; i < 10; i++) {
          const res = await login(origin, "wrong-password", "victim");
          equal(res.status, 401);
          await res.body?.cancel();
        }
        const page = await login(origin, "wrong-password", "victim");
        equal(page.status, 429);
        equal(page.headers.get("retry-after"), "900");
        match(await page.text(), /Too many failed sign-ins/);
        const api = await postToken(origin, {
          body: { username: "Victim", password: "x-x-x-x-x" },
        });
        equal(api.status, 429);
        ok(Number(api.headers.get("retry-after")) > 0);
        equal((await api.json()).error.code, "too_many_attempts");
      });
    } finally {
      await app.stop();
    }
  },
});

Deno.test({
  name: "[auth] the generated demo password is printed once, never logged",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const app = await startApp({ env: { ...FAST, LOG_LEVEL: "debug" } });
    try {
      const line = app.output().match(
        /^Demo login: demo \/ (\S+) \(printed once; set DEMO_PASSWORD to choose it\)$/m,
      );
      ok(line, `demo line in:\n${app.output()}`);
      const password = line[1];
      equal(app.output().split(password).length - 1, 1, "the password appears exactly once");
      const res = await login(app.origin, password);
      equal(res.status, 303);
      await res.body?.cancel();
    } finally {
      await app.stop();
    }
  },
});
