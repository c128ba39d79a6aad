/**
 * Hardening through the real routes, in process (`serveApp().request()`): the failed
 * sign-in limits under concurrency and against a lockout, redirect targets after signing
 * in, and the security headers of every kind of response. docs/SECURITY.md.
 */
import { equal, match, ok } from "node:assert/strict";
import { type InProcessApp, serveApp } from "./_app.ts";
import { DEMO_PASSWORD } from "./_auth.ts";
import { NEXT_CASES } from "./fixtures/redirect_targets.ts";

function signIn(
  app: InProcessApp,
  fields: { username?: string; password: string; next?: string },
  ip = "127.0.0.1",
): Promise<Response> {
  const body = new URLSearchParams({ username: fields.username ?? "demo", ...fields });
  return app.request("/login", {
    method: "POST",
    body,
    headers: { origin: app.origin },
    redirect: "manual",
    ip,
  });
}

function cookieOf(res: Response): string {
  return (res.headers.get("set-cookie") ?? "").split(";")[0];
}

Deno.test({
  name: "[security] sign-in limits: concurrency, per address, never a lockout of the owner",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using app = await serveApp();
    // 40 concurrent wrong guesses for demo from one address: the budget (10) is
    // evaluated, the other 30 are refused before any hashing.
    const guesses = await Promise.all(
      Array.from(
        { length: 40 },
        (_, i) =>
          signIn(app, { password: `wrong-guess-${i}` }, "192.0.2.1").then(async (res) => {
            await res.body?.cancel();
            return `${res.status} ${res.headers.get("retry-after") ?? "-"}`;
          }),
      ),
    );
    equal(guesses.filter((s) => s === "401 -").length, 10, guesses.join(", "));
    equal(guesses.filter((s) => s === "429 900").length, 30, guesses.join(", "));
    // Even the right password from that address waits for the window…
    const refused = await signIn(app, { password: DEMO_PASSWORD }, "192.0.2.1");
    equal(refused.status, 429);
    match(await refused.text(), /Too many failed sign-ins/);
    // …and so do the token endpoint's and the account page's checks from there.
    const token = await app.request("/api/token", {
      method: "POST",
      body: JSON.stringify({ username: "demo", password: DEMO_PASSWORD }),
      headers: { "content-type": "application/json" },
      ip: "192.0.2.1",
    });
    equal(token.status, 429);
    equal((await token.json()).error.code, "too_many_attempts");
    // The owner, from any other address, signs in.
    const owner = await signIn(app, { password: DEMO_PASSWORD }, "198.51.100.20");
    equal(owner.status, 303);
    equal(owner.headers.get("location"), "/");
    await owner.body?.cancel();
    // The account page's password check goes through the same limits (another user, so
    // that demo's failures do not add their progressive delay to this test).
    const created = await app.services.auth.createAccount({
      username: "erin",
      password: "violet-harbor-lantern",
    });
    ok(created.ok);
    const erin = cookieOf(
      await signIn(app, { username: "erin", password: "violet-harbor-lantern" }, "198.51.100.21"),
    );
    for (let i = 0; i < 10; i++) {
      const wrong = await app.request("/account", {
        method: "POST",
        body: new URLSearchParams({ intent: "delete", password: `wrong-${i}` }),
        headers: { origin: app.origin, cookie: erin },
        ip: "198.51.100.21",
      });
      equal(wrong.status, 401, `wrong password ${i + 1}`);
      await wrong.body?.cancel();
    }
    const limited = await app.request("/account", {
      method: "POST",
      body: new URLSearchParams({ intent: "delete", password: "violet-harbor-lantern" }),
      headers: { origin: app.origin, cookie: erin },
      ip: "198.51.100.21",
    });
    equal(limited.status, 429);
    ok(Number(limited.headers.get("retry-after")) > 0);
    await limited.body?.cancel();
    ok(await app.services.auth.findAccountByUsername("erin"), "not deleted");
  },
});

Deno.test({
  name: "[security] after signing in, the redirect always stays on this origin",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using app = await serveApp();
    ok(NEXT_CASES.length >= 20);
    for (const [next, expected] of NEXT_CASES) {
      const label = JSON.stringify(next);
      const fields = { password: DEMO_PASSWORD, ...(next == null ? {} : { next }) };
      const res = await signIn(app, fields);
      equal(res.status, 303, label);
      const location = res.headers.get("location") ?? "";
      equal(location, expected, label);
      equal(new URL(location, app.origin).origin, app.origin, `${label} → ${location}`);
      ok(!/^\/[/\\]/.test(location), `${label}: ${location} is not protocol-relative`);
      // The form keeps only the safe target, and so does its "Create one" link.
      if (next == null) continue;
      const page = await app.request(`/login?next=${encodeURIComponent(next)}`);
      const html = await page.text();
      const hidden = html.match(/<input type="hidden" name="next" value="([^"]*)"/)?.[1];
      equal(hidden?.replaceAll("&amp;", "&"), expected, `${label}: the form's next`);
    }
    // The 404 page's "Sign in" link never carries an unsafe next.
    for (const path of ["/.//evil.example", "//evil.example", "/%2F%2Fevil.example"]) {
      const res = await app.request(app.origin + path);
      equal(res.status, 404, path);
      const html = await res.text();
      match(html, /<a href="\/login">Sign in<\/a>/, path);
    }
    const plain = await (await app.request("/no-such-page")).text();
    match(plain, /<a href="\/login\?next=%2Fno-such-page">Sign in<\/a>/);
  },
});

Deno.test({
  name: "[security] every response carries the security headers",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using app = await serveApp();
    const login = await signIn(app, { password: DEMO_PASSWORD }, "198.51.100.30");
    const cookie = cookieOf(login);
    const home = await app.request("/");
    const homeHtml = await home.text();
    const bundle = homeHtml.match(/<link rel="modulepreload" href="([^"]+)">/)?.[1];
    ok(bundle, "the page preloads its island bundles");
    const responses: [string, Response][] = [
      ["GET /", home],
      ["GET /login", await app.request("/login")],
      ["GET /signup", await app.request("/signup")],
      ["GET /logout", await app.request("/logout", { headers: { cookie } })],
      ["GET /account", await app.request("/account", { headers: { cookie } })],
      ["GET /nope (404)", await app.request("/nope")],
      ["POST /login (303)", login],
      ["GET /account anonymous (303)", await app.request("/account", { redirect: "manual" })],
      ["GET /styles.css", await app.request("/styles.css")],
      ["GET /favicon.svg", await app.request("/favicon.svg")],
      ["GET bundle", await app.request(bundle)],
      ["GET /api/prices", await app.request("/api/prices")],
      ["GET /api/websocket/status", await app.request("/api/websocket/status")],
      ["GET /metrics", await app.request("/metrics")],
      ["POST /api/token (401)", await app.request("/api/token", { method: "POST" })],
      ["GET /about/ (307)", await app.request("/about/", { redirect: "manual" })],
    ];
    for (const [what, res] of responses) {
      const type = res.headers.get("content-type") ?? "";
      if (!res.bodyUsed) await res.body?.cancel();
      if (what.endsWith("(307)")) continue; // answered before any middleware, as in Fresh
      equal(res.headers.get("x-content-type-options"), "nosniff", what);
      equal(res.headers.get("x-frame-options"), "DENY", what);
      equal(res.headers.get("referrer-policy"), "strict-origin-when-cross-origin", what);
      equal(res.headers.get("x-fresh-nonce"), null, `${what}: no internal header leaks`);
      const csp = res.headers.get("content-security-policy") ?? "";
      match(csp, /frame-ancestors 'none'/, what);
      if (type.startsWith("text/html")) {
        match(csp, /script-src 'self' 'nonce-[0-9a-f]{32}'/, what);
        match(res.headers.get("permissions-policy") ?? "", /camera=\(\)/, what);
      } else {
        match(csp, /^default-src 'none'/, what);
      }
    }
    // The policy's nonce is the inline script's, and differs per response.
    const nonceOf = (res: Response) =>
      res.headers.get("content-security-policy")?.match(/'nonce-([0-9a-f]{32})'/)?.[1];
    const again = await app.request("/");
    ok(homeHtml.includes(`<script type="module" nonce="${nonceOf(home)}">`));
    ok(nonceOf(again) !== nonceOf(home), "a fresh nonce per response");
    await again.body?.cancel();
    equal(homeHtml.includes("style="), false, "no inline style attributes");
    const https = await app.request("/", { headers: { "x-forwarded-proto": "https" } });
    equal(https.headers.get("strict-transport-security"), "max-age=31536000");
    await https.body?.cancel();
    equal(home.headers.get("strict-transport-security"), null);
  },
});
