import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { createOriginPolicy, isSameOrigin, normalizeOrigin } from "./origin.ts";

function req(url: string, origin?: string): Request {
  return new Request(url, { headers: origin === undefined ? {} : { origin } });
}

function verdict(policy: ReturnType<typeof createOriginPolicy>, r: Request): string {
  const failure = policy.check(r);
  return failure ? `${failure.status} ${failure.code}` : "ok";
}

Deno.test("[auth] origin: normalizeOrigin accepts origins only", () => {
  equal(normalizeOrigin("https://App.Example.com"), "https://app.example.com");
  equal(normalizeOrigin("https://app.example.com/"), "https://app.example.com");
  equal(normalizeOrigin(" http://localhost:8000 "), "http://localhost:8000");
  equal(normalizeOrigin("https://example.com:443"), "https://example.com");
  for (
    const bad of [
      "null",
      "",
      "example.com",
      "ftp://example.com",
      "https://example.com/path",
      "https://example.com/.",
      "https://example.com?x=1",
      "https://example.com#x",
      "https://user:pw@example.com",
      "javascript:alert(1)",
    ]
  ) {
    equal(normalizeOrigin(bad), null, bad);
  }
});

Deno.test("[auth] origin: default policy is same origin only", () => {
  const policy = createOriginPolicy();
  equal(verdict(policy, req("http://localhost:8000/api/ws", "http://localhost:8000")), "ok");
  equal(verdict(policy, req("http://localhost:8000/api/ws")), "ok", "no Origin: a program");
  equal(
    verdict(policy, req("http://localhost:8000/api/ws", "http://localhost:9000")),
    "403 bad_origin",
    "another port is another origin",
  );
  equal(verdict(policy, req("http://localhost:8000/", "https://evil.example")), "403 bad_origin");
  equal(verdict(policy, req("http://localhost:8000/", "null")), "403 bad_origin");
  equal(verdict(policy, req("http://localhost:8000/", "garbage")), "403 bad_origin");
  const failure = policy.check(req("http://localhost:8000/", "null"));
  equal(failure?.message, "Requests from an opaque origin (null) are not allowed");
});

Deno.test("[auth] origin: https behind a proxy, never http to an https server", () => {
  ok(isSameOrigin(req("http://app.example.com/"), "https://app.example.com"));
  ok(isSameOrigin(req("https://app.example.com/"), "https://app.example.com"));
  equal(isSameOrigin(req("https://app.example.com/"), "http://app.example.com"), false);
  equal(isSameOrigin(req("http://app.example.com/"), "http://app.example.com:81"), false);
});

Deno.test("[auth] origin: ALLOWED_ORIGINS adds origins and yields CORS headers", () => {
  const policy = createOriginPolicy(["https://dash.example.com", "http://localhost:3000/"]);
  deepEqual(policy.allowedOrigins, ["https://dash.example.com", "http://localhost:3000"]);
  const host = "http://api.example.com/api/token";
  equal(verdict(policy, req(host, "https://dash.example.com")), "ok");
  equal(verdict(policy, req(host, "http://localhost:3000")), "ok");
  equal(verdict(policy, req(host, "http://api.example.com")), "ok", "own origin still allowed");
  equal(verdict(policy, req(host, "http://dash.example.com")), "403 bad_origin", "scheme counts");
  equal(verdict(policy, req(host, "https://evil.dash.example.com")), "403 bad_origin");
  equal(verdict(policy, req(host, "null")), "403 bad_origin");

  equal(
    policy.corsHeaders(req(host, "https://dash.example.com"))?.["access-control-allow-origin"],
    "https://dash.example.com",
  );
  equal(policy.corsHeaders(req(host, "http://api.example.com")), null, "same origin: none");
  equal(policy.corsHeaders(req(host)), null);
  equal(policy.corsHeaders(req(host, "https://evil.example")), null);
});

Deno.test("[auth] origin: a malformed allow-list entry is refused", () => {
  throws(() => createOriginPolicy(["https://ok.example", "not an origin"]), /Cannot allow origin/);
});

Deno.test("[auth] origin: checkSameOrigin refuses listed origins too", () => {
  const policy = createOriginPolicy(["https://dash.example.com"]);
  const url = "http://localhost:8000/signup";
  equal(policy.checkSameOrigin(req(url)), null, "no Origin: a program");
  equal(policy.checkSameOrigin(req(url, "http://localhost:8000")), null);
  equal(policy.check(req(url, "https://dash.example.com")), null, "listed: fine for check");
  equal(policy.checkSameOrigin(req(url, "https://dash.example.com"))?.code, "bad_origin");
  equal(policy.checkSameOrigin(req(url, "https://evil.example"))?.status, 403);
  equal(policy.checkSameOrigin(req(url, "null"))?.code, "bad_origin");
});
