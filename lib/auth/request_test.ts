import { deepEqual, equal, ok } from "node:assert/strict";
import { NEXT_CASES } from "../../tests/fixtures/redirect_targets.ts";
import {
  MAX_BODY_BYTES,
  readCredentialsJson,
  readForm,
  readLoginForm,
  readTextLimited,
  safeNextPath,
  trimSpaces,
} from "./request.ts";

function post(body: BodyInit | null, type?: string): Request {
  return new Request("http://localhost/x", {
    method: "POST",
    body,
    headers: type ? { "content-type": type } : {},
  });
}

Deno.test("[auth] request: next path stays on this site, resolved before it is checked", () => {
  ok(NEXT_CASES.length >= 30);
  for (const [input, expected] of NEXT_CASES) {
    const got = safeNextPath(input);
    equal(got, expected, JSON.stringify(input));
    const resolved = new URL(got, "https://app.example");
    equal(resolved.origin, "https://app.example", `${JSON.stringify(input)} stays on the origin`);
    ok(!/^\/[/\\]/.test(got), `${JSON.stringify(input)} is not protocol-relative`);
  }
});

Deno.test("[auth] request: login form", async () => {
  const body = new URLSearchParams({ username: " demo ", password: " p w ", next: "/x" });
  deepEqual(await readLoginForm(post(body)), { username: "demo", password: " p w ", next: "/x" });
  deepEqual(
    await readLoginForm(post("username=a", "application/x-www-form-urlencoded")),
    { username: "a", password: "", next: "/" },
  );
  equal(await readLoginForm(post('{"username":"a"}', "application/json")), null);
  equal(
    await readLoginForm(
      post("x=" + "a".repeat(MAX_BODY_BYTES), "application/x-www-form-urlencoded"),
    ),
    null,
  );
});

Deno.test("[auth] request: credentials JSON", async () => {
  deepEqual(await readCredentialsJson(post(null)), { kind: "none" });
  deepEqual(await readCredentialsJson(post("  ")), { kind: "none" });
  deepEqual(await readCredentialsJson(post('{"username":" demo","password":"pw"}')), {
    kind: "credentials",
    username: "demo",
    password: "pw",
  });
  for (const bad of ["{", "[]", "null", '{"username":"a"}', '{"username":1,"password":"x"}']) {
    equal((await readCredentialsJson(post(bad))).kind, "invalid", bad);
  }
});

Deno.test("[auth] request: bodies are read with a limit, even when streamed", async () => {
  const big = new Uint8Array(MAX_BODY_BYTES + 1).fill(97);
  equal(await readTextLimited(post(big)), null);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < 10; i++) controller.enqueue(new Uint8Array(1024).fill(98));
      controller.close();
    },
  });
  equal(await readTextLimited(post(stream)), null);
  equal(await readTextLimited(post("hello")), "hello");
  equal(await readTextLimited(new Request("http://localhost/")), "");
});

Deno.test("[auth] request: only spaces are trimmed from a username", async () => {
  equal(trimSpaces("  bob  "), "bob");
  equal(trimSpaces("bob\n"), "bob\n", "a line break stays, so the rules refuse it");
  const body = new URLSearchParams({ username: " bob\t", password: "x" });
  equal((await readLoginForm(post(body)))?.username, "bob\t");
  const json = await readCredentialsJson(post('{"username":"\\u0000bob ","password":"x"}'));
  deepEqual(json, { kind: "credentials", username: "\u0000bob", password: "x" });
});

Deno.test("[auth] request: readForm reads bounded URL-encoded forms only", async () => {
  equal((await readForm(post(new URLSearchParams({ intent: "delete" }))))?.get("intent"), "delete");
  equal(await readForm(post("intent=delete", "text/plain")), null);
  const big = "x=" + "a".repeat(MAX_BODY_BYTES);
  equal(await readForm(post(big, "application/x-www-form-urlencoded")), null);
});
