import { equal, match } from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import type { Principal } from "../lib/auth/mod.ts";
import { nextQuery, UserMenu } from "./UserMenu.tsx";

const DEMO: Principal = {
  userId: "01DEMO",
  name: "demo",
  anonymous: false,
  via: "cookie",
  expiresAt: 0,
  roles: ["user"],
};

Deno.test("[auth] UserMenu: signed in → name and a POST form to /logout", () => {
  const html = renderToString(<UserMenu user={DEMO} />);
  match(html, /Signed in as <strong data-testid="user-name">demo<\/strong>/);
  match(
    html,
    /<form method="post" action="\/logout"><button type="submit"[^>]*>Sign out<\/button>/,
  );
  equal(html.includes("Sign in<"), false);
});

Deno.test("[auth] UserMenu: signed out → a Sign in link that returns to the page", () => {
  match(renderToString(<UserMenu user={null} />), /<a href="\/login">Sign in<\/a>/);
  match(
    renderToString(<UserMenu user={null} path="/markets?x=1" />),
    /<a href="\/login\?next=%2Fmarkets%3Fx%3D1">Sign in<\/a>/,
  );
  match(renderToString(<UserMenu user={null} path="/login?next=%2Fx" />), /href="\/login"/);
  const anonymous = { ...DEMO, anonymous: true, via: "anonymous" as const, name: "anonymous" };
  match(renderToString(<UserMenu user={anonymous} />), /Sign in/);
});

Deno.test("[auth] UserMenu: the name is escaped", () => {
  const html = renderToString(<UserMenu user={{ ...DEMO, name: "<script>x</script>" }} />);
  equal(html.includes("<script>"), false);
  match(html, /&lt;script>/);
});

Deno.test("[auth] UserMenu: Sign up next to Sign in; Account for a signed-in user", () => {
  const anonymous = renderToString(<UserMenu user={null} path="/markets" />);
  match(anonymous, /<a href="\/login\?next=%2Fmarkets">Sign in<\/a>/);
  match(anonymous, /<a href="\/signup\?next=%2Fmarkets">Sign up<\/a>/);
  equal(anonymous.includes('href="/account"'), false);
  match(renderToString(<UserMenu user={null} path="/signup?next=%2Fx" />), /href="\/signup"/);
  const signedIn = renderToString(<UserMenu user={DEMO} />);
  match(signedIn, /<a href="\/account">Account<\/a>/);
  equal(signedIn.includes("Sign up"), false);
});

Deno.test("[auth] UserMenu: next= only from a path that is safe as it is", () => {
  for (
    const path of [
      "//evil.example",
      "//evil.example/x?y",
      "/.//evil.example",
      "/%2F%2Fevil.example",
      "/\\evil.example",
      "/a/../b",
      "/login?next=%2Fx",
      "/logout",
    ]
  ) {
    const html = renderToString(<UserMenu user={null} path={path} />);
    match(html, /<a href="\/login">Sign in<\/a>/, path);
    match(html, /<a href="\/signup">Sign up<\/a>/, path);
  }
  equal(nextQuery("/markets?x=1"), "?next=%2Fmarkets%3Fx%3D1");
  equal(nextQuery("/login-help"), "?next=%2Flogin-help");
});
