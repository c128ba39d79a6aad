import { equal, match, ok } from "node:assert/strict";
import { NONCE_HEADER } from "$fresh/render.ts";
import {
  HSTS,
  pagePolicy,
  PERMISSIONS_POLICY,
  securityHeaders,
  withSecurityHeaders,
} from "./security_headers.ts";

const NONCE = "0123456789abcdef0123456789abcdef";

function page(extra: Record<string, string> = {}): Response {
  return new Response("<!DOCTYPE html><p>hi</p>", {
    headers: { "content-type": "text/html; charset=utf-8", [NONCE_HEADER]: NONCE, ...extra },
  });
}

function directives(policy: string): Map<string, string> {
  return new Map(
    policy.split(";").map((d) => {
      const [name, ...values] = d.trim().split(/\s+/);
      return [name, values.join(" ")];
    }),
  );
}

Deno.test("[security] headers: an HTML page gets the page policy with its nonce", () => {
  const res = withSecurityHeaders(new Request("http://localhost/"), page());
  const csp = directives(res.headers.get("content-security-policy")!);
  equal(csp.get("default-src"), "'none'");
  equal(csp.get("script-src"), `'self' 'nonce-${NONCE}'`);
  equal(csp.get("style-src"), "'self'", "no 'unsafe-inline' styles");
  equal(csp.get("connect-src"), "'self'");
  equal(csp.get("frame-ancestors"), "'none'");
  equal(csp.get("base-uri"), "'none'");
  equal(csp.get("form-action"), "'self'");
  equal(csp.get("object-src"), "'none'");
  ok(![...csp.values()].some((v) => v.includes("unsafe")), "nothing unsafe anywhere");
  equal(res.headers.get("x-frame-options"), "DENY");
  equal(res.headers.get("x-content-type-options"), "nosniff");
  equal(res.headers.get("referrer-policy"), "strict-origin-when-cross-origin");
  equal(res.headers.get("permissions-policy"), PERMISSIONS_POLICY);
  match(PERMISSIONS_POLICY, /camera=\(\), .*geolocation=\(\), .*microphone=\(\)/);
  equal(res.headers.get("cross-origin-opener-policy"), "same-origin");
  equal(res.headers.get(NONCE_HEADER), null, "the internal nonce header is removed");
  equal(res.headers.get("strict-transport-security"), null, "no HSTS over http");
});

Deno.test("[security] headers: JSON, static files and redirects allow nothing, nosniff", () => {
  const req = new Request("http://localhost/api/prices");
  for (
    const res of [
      Response.json({ ok: true }),
      new Response("body{}", { headers: { "content-type": "text/css; charset=utf-8" } }),
      new Response(null, { status: 303, headers: { location: "/" } }),
      Response.redirect("http://localhost/", 302), // immutable headers: copied
    ]
  ) {
    const out = withSecurityHeaders(req, res);
    equal(out.headers.get("x-content-type-options"), "nosniff");
    equal(out.headers.get("x-frame-options"), "DENY");
    match(out.headers.get("content-security-policy")!, /^default-src 'none'; frame-ancestors/);
    equal(out.headers.get("permissions-policy"), null);
    equal(out.status, res.status);
  }
});

Deno.test("[security] headers: HSTS only over https; a route's own header is kept", () => {
  const https = withSecurityHeaders(new Request("https://rt.example/"), page());
  equal(https.headers.get("strict-transport-security"), HSTS);
  const proxied = withSecurityHeaders(
    new Request("http://127.0.0.1/", { headers: { "x-forwarded-proto": "https" } }),
    page(),
  );
  equal(proxied.headers.get("strict-transport-security"), HSTS);
  const own = withSecurityHeaders(
    new Request("http://localhost/"),
    page({ "x-frame-options": "SAMEORIGIN" }),
  );
  equal(own.headers.get("x-frame-options"), "SAMEORIGIN");
});

Deno.test("[security] headers: no nonce, or a malformed one, allows no inline script", () => {
  equal(directives(pagePolicy(null)).get("script-src"), "'self'");
  equal(directives(pagePolicy("x'; script-src *")).get("script-src"), "'self'");
  const res = withSecurityHeaders(
    new Request("http://localhost/"),
    new Response("<p>x</p>", { headers: { "content-type": "text/html" } }),
  );
  equal(directives(res.headers.get("content-security-policy")!).get("script-src"), "'self'");
});

Deno.test("[security] headers: the middleware decorates what the chain answered", async () => {
  const middleware = securityHeaders();
  const res = await middleware(new Request("http://localhost/"), {
    next: () => Promise.resolve(page()),
  });
  match(res.headers.get("content-security-policy")!, new RegExp(`'nonce-${NONCE}'`));
  const upgrade = new Response(null, { status: 200 });
  Object.defineProperty(upgrade, "status", { value: 101 });
  const passed = await middleware(new Request("http://localhost/api/ws"), {
    next: () => Promise.resolve(upgrade),
  });
  equal(passed, upgrade, "a WebSocket upgrade is returned as is");
  equal(passed.headers.get("x-content-type-options"), null);
});
