import { equal, ok, throws } from "node:assert/strict";
import { cachedVerifier } from "./token_cache.ts";
import type { AuthResult } from "./types.ts";

function fakeVerify(expiresAt: number | null) {
  let calls = 0;
  const verify = (token: string): Promise<AuthResult> => {
    calls++;
    if (token === "bad") {
      return Promise.resolve({ ok: false, status: 401, code: "invalid_token", message: "no" });
    }
    return Promise.resolve({
      ok: true,
      principal: {
        userId: token,
        name: token,
        anonymous: false,
        via: "token",
        expiresAt,
        roles: ["user"],
      },
    });
  };
  return { verify, calls: () => calls };
}

Deno.test("[token cache] a verified token is verified once, until it expires", async () => {
  let now = 1_000;
  const f = fakeVerify(10_000);
  const cached = cachedVerifier(f.verify, { toleranceSec: 5, now: () => now });
  const a = await cached("t1");
  const b = await cached("t1");
  equal(f.calls(), 1);
  ok(a.ok && b.ok && a.principal === b.principal, "one shared principal");
  if (a.ok) throws(() => a.principal.roles.push("admin"), "frozen: nobody can widen it");
  now = 15_000; // expiry + tolerance reached
  await cached("t1");
  equal(f.calls(), 1, "still within the tolerance");
  now = 15_001;
  await cached("t1");
  equal(f.calls(), 2, "expired: verified again (and refused by the real verifier)");
});

Deno.test("[token cache] failures are not kept; the cache is bounded (LRU)", async () => {
  const f = fakeVerify(Number.MAX_SAFE_INTEGER);
  const cached = cachedVerifier(f.verify, { toleranceSec: 5, maxEntries: 2 });
  await cached("bad");
  await cached("bad");
  equal(f.calls(), 2);
  equal(cached.size, 0);
  await cached("a");
  await cached("b");
  await cached("a"); // a is now the most recent
  await cached("c"); // evicts b
  equal(cached.size, 2);
  const before = f.calls();
  await cached("a");
  equal(f.calls(), before, "a kept");
  await cached("b");
  equal(f.calls(), before + 1, "b was evicted");
});

Deno.test("[token cache] tokens without expiry are never cached", async () => {
  const f = fakeVerify(null);
  const cached = cachedVerifier(f.verify, { toleranceSec: 5 });
  await cached("t");
  await cached("t");
  equal(f.calls(), 2);
});
