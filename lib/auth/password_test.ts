import { equal, match, notEqual, ok, rejects, throws } from "node:assert/strict";
import {
  decoyHash,
  DEFAULT_PBKDF2_ITERATIONS,
  hashPassword,
  needsRehash,
  parseHash,
  verifyPassword,
} from "./password.ts";

const FAST = { iterations: 1_000 };

Deno.test("[auth] password default work factor follows OWASP 2023", async () => {
  ok(DEFAULT_PBKDF2_ITERATIONS >= 600_000);
  const stored = await hashPassword("correct horse");
  equal(parseHash(stored)?.iterations, DEFAULT_PBKDF2_ITERATIONS);
});

Deno.test("[auth] password hash round trip and wrong password", async () => {
  const stored = await hashPassword("correct horse", FAST);
  ok(await verifyPassword("correct horse", stored));
  ok(!(await verifyPassword("correct horsE", stored)));
  ok(!(await verifyPassword("", stored)));
});

Deno.test("[auth] password stored format is self-describing with a random salt", async () => {
  const a = await hashPassword("pässwörd-✓", FAST);
  const b = await hashPassword("pässwörd-✓", FAST);
  match(a, /^pbkdf2-sha256\$1000\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
  notEqual(a, b, "salts differ");
  const parsed = parseHash(a);
  equal(parsed?.salt.length, 16);
  equal(parsed?.hash.length, 32);
  ok(await verifyPassword("pässwörd-✓", b));
});

Deno.test("[auth] password hash matches a published PBKDF2-HMAC-SHA256 vector", async () => {
  // P = "password", S = "salt", c = 4096, dkLen = 32 (the RFC 6070 inputs for SHA-256).
  const salt = new TextEncoder().encode("salt");
  const stored = await hashPassword("password", { iterations: 4_096, salt });
  const hash = Uint8Array.fromBase64(stored.split("$")[3]);
  const hex = Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
  equal(hex, "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a");
  ok(stored.startsWith("pbkdf2-sha256$4096$c2FsdA==$"));
});

Deno.test("[auth] malformed stored hashes never verify", async () => {
  for (
    const bad of [
      "",
      "plain",
      "pbkdf2-sha256$1000$c2FsdA==",
      "pbkdf2-sha1$1000$c2FsdHNhbHQ=$AAAA",
      "pbkdf2-sha256$10$c2FsdHNhbHQ=$" + "A".repeat(43) + "=",
      "pbkdf2-sha256$abc$c2FsdHNhbHQ=$" + "A".repeat(43) + "=",
      "pbkdf2-sha256$1000$***$" + "A".repeat(43) + "=",
    ]
  ) {
    equal(parseHash(bad), null, bad);
    ok(!(await verifyPassword("x", bad)));
  }
});

Deno.test("[auth] work factor bounds, re-hash detection and decoys", async () => {
  await rejects(hashPassword("x", { iterations: 999 }), /Cannot hash password: iterations/);
  throws(() => decoyHash(1.5), /iterations must be an integer/);
  const stored = await hashPassword("secret pw", FAST);
  ok(!needsRehash(stored, 1_000));
  ok(needsRehash(stored, 2_000));
  const decoy = decoyHash(1_000);
  equal(parseHash(decoy)?.iterations, 1_000);
  ok(!(await verifyPassword("secret pw", decoy)));
});
