import { deepEqual, equal, ok } from "node:assert/strict";
import { decodeJwt, decodeProtectedHeader, SignJWT } from "jose";
import { toBase64Url } from "./_util.ts";
import {
  DEFAULT_TOKEN_TTL_SEC,
  issueAccessToken,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  verifyAccessToken,
} from "./tokens.ts";
import type { AuthResult } from "./types.ts";

const KEY = new TextEncoder().encode("k".repeat(32));
const OTHER_KEY = new TextEncoder().encode("o".repeat(32));
const T0 = 1_700_000_000_000;
const SUBJECT = { userId: "01USER", name: "alice", roles: ["user", "admin"] };

function code(result: AuthResult): string {
  return result.ok ? "ok" : result.code;
}

function failureText(result: AuthResult): string {
  return result.ok ? "" : `${result.code} ${result.message}`;
}

async function craft(
  claims: Record<string, unknown>,
  key: Uint8Array<ArrayBuffer> = KEY,
): Promise<string> {
  const iat = Math.floor(T0 / 1000);
  return await new SignJWT({ name: "alice", roles: ["user"], ...claims })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("01USER")
    .setIssuedAt(iat)
    .setExpirationTime(iat + 60)
    .sign(key);
}

Deno.test("[auth] tokens: claims, HS256 and a 15 minute default lifetime", async () => {
  equal(DEFAULT_TOKEN_TTL_SEC, 900);
  const { token, expiresAt } = await issueAccessToken(KEY, SUBJECT, { now: () => T0 + 400 });
  deepEqual(decodeProtectedHeader(token), { alg: "HS256", typ: "JWT" });
  deepEqual(decodeJwt(token), {
    sub: "01USER",
    name: "alice",
    roles: ["user", "admin"],
    aud: TOKEN_AUDIENCE,
    iss: TOKEN_ISSUER,
    iat: T0 / 1000,
    exp: T0 / 1000 + 900,
  });
  equal(expiresAt, T0 + 900_000);
  const result = await verifyAccessToken(KEY, token, { now: () => T0 + 1000 });
  deepEqual(result, {
    ok: true,
    principal: {
      userId: "01USER",
      name: "alice",
      anonymous: false,
      via: "token",
      expiresAt: T0 + 900_000,
      roles: ["user", "admin"],
    },
  });
});

Deno.test("[auth] tokens: expiry with 5 s of clock tolerance", async () => {
  const { token } = await issueAccessToken(KEY, SUBJECT, { ttlSec: 60, now: () => T0 });
  equal(code(await verifyAccessToken(KEY, token, { now: () => T0 + 59_000 })), "ok");
  equal(code(await verifyAccessToken(KEY, token, { now: () => T0 + 64_000 })), "ok");
  const expired = await verifyAccessToken(KEY, token, { now: () => T0 + 66_000 });
  equal(code(expired), "expired_token");
  equal(expired.ok ? 0 : expired.status, 401);
});

Deno.test("[auth] tokens: wrong audience", async () => {
  const token = await craft({ aud: "billing", iss: TOKEN_ISSUER });
  equal(code(await verifyAccessToken(KEY, token, { now: () => T0 })), "wrong_audience");
  const none = await craft({ iss: TOKEN_ISSUER });
  equal(code(await verifyAccessToken(KEY, none, { now: () => T0 })), "wrong_audience");
});

Deno.test("[auth] tokens: everything else is invalid_token, without echoing the token", async () => {
  const now = () => T0;
  const { token } = await issueAccessToken(KEY, SUBJECT, { now });
  const [header, payload, signature] = token.split(".");

  const forged = toBase64Url(
    new TextEncoder().encode(JSON.stringify({ ...decodeJwt(token), roles: ["admin"] })),
  );
  const flipped = signature.slice(0, -2) + (signature.at(-2) === "A" ? "B" : "A") +
    signature.at(-1);
  const algNone = toBase64Url(new TextEncoder().encode(JSON.stringify({ alg: "none" })));
  const cases: Record<string, string> = {
    "tampered payload": `${header}.${forged}.${signature}`,
    "tampered signature": `${header}.${payload}.${flipped}`,
    "alg none": `${algNone}.${payload}.`,
    "wrong secret": (await issueAccessToken(OTHER_KEY, SUBJECT, { now })).token,
    "wrong issuer": await craft({ aud: TOKEN_AUDIENCE, iss: "someone-else" }),
    "missing name": await craft({ aud: TOKEN_AUDIENCE, iss: TOKEN_ISSUER, name: undefined }),
    "roles not strings": await craft({ aud: TOKEN_AUDIENCE, iss: TOKEN_ISSUER, roles: [1] }),
    "malformed": "not.a.jwt",
    "empty": "",
    "huge": "a".repeat(9000),
  };
  for (const [name, bad] of Object.entries(cases)) {
    const result = await verifyAccessToken(KEY, bad, { now });
    equal(code(result), "invalid_token", name);
    if (bad.length > 10) {
      ok(!failureText(result).includes(bad.slice(0, 20)), `${name}: token not echoed`);
    }
  }
});
