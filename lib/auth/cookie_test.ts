import { equal, match, ok } from "node:assert/strict";
import {
  clearedSessionCookie,
  isSecureRequest,
  SESSION_COOKIE,
  sessionCookie,
  sessionIdFromRequest,
} from "./cookie.ts";

Deno.test("[auth] cookie attributes: HttpOnly, SameSite=Lax, Path=/, Secure on https", () => {
  equal(SESSION_COOKIE, "rt_session");
  const plain = sessionCookie("abc", { secure: false, maxAgeSec: 604_800 });
  equal(plain, "rt_session=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=604800");
  match(sessionCookie("abc", { secure: true, maxAgeSec: 10 }), /; Secure$/);
  const cleared = clearedSessionCookie({ secure: false });
  match(cleared, /^rt_session=; Path=\/; HttpOnly; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan/);
});

Deno.test("[auth] cookie: https detection", () => {
  ok(isSecureRequest(new Request("https://example.com/")));
  ok(!isSecureRequest(new Request("http://example.com/")));
  ok(
    isSecureRequest(new Request("http://10.0.0.1/", { headers: { "x-forwarded-proto": "https" } })),
  );
  ok(
    !isSecureRequest(new Request("http://10.0.0.1/", { headers: { "x-forwarded-proto": "http" } })),
  );
});

Deno.test("[auth] cookie: reads the session id among other cookies", () => {
  const req = (cookie?: string) =>
    new Request("http://x/", { headers: cookie ? { cookie } : undefined });
  equal(sessionIdFromRequest(req()), undefined);
  equal(sessionIdFromRequest(req("a=1; rt_session=xyz; b=2")), "xyz");
  equal(sessionIdFromRequest(req("rt_session=first;rt_session=second")), "first");
  equal(sessionIdFromRequest(req("rt_sessionx=1; junk")), undefined);
  equal(sessionIdFromRequest(req("rt_session=")), "");
});
