import { deepEqual, equal, notDeepEqual, rejects } from "node:assert/strict";
import { authSecretKey } from "../kv/keys.ts";
import { resolveSecret } from "./secret.ts";

Deno.test("[auth] secret: AUTH_SECRET wins and must have 32 bytes", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const s = await resolveSecret(kv, "x".repeat(32));
    equal(s.source, "env");
    equal(s.key.length, 32);
    equal((await kv.get(authSecretKey())).value, null, "nothing written to KV");
    await rejects(resolveSecret(kv, "x".repeat(31)), (err: Error) => {
      equal(err.message.includes("xxxx"), false, "the secret is not echoed");
      return /at least 32 bytes, got 31/.test(err.message);
    });
  } finally {
    kv.close();
  }
});

Deno.test("[auth] secret: generated once in KV and shared by concurrent callers", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const all = await Promise.all(Array.from({ length: 8 }, () => resolveSecret(kv)));
    for (const s of all) deepEqual(s.key, all[0].key);
    equal(all.filter((s) => s.source === "kv-created").length, 1);
    equal(all[0].key.length, 32);
    const later = await resolveSecret(kv);
    equal(later.source, "kv-existing");
    deepEqual(later.key, all[0].key);
  } finally {
    kv.close();
  }
});

Deno.test("[auth] secret: a malformed stored value is replaced", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await kv.set(authSecretKey(), "not bytes");
    const s = await resolveSecret(kv);
    equal(s.source, "kv-created");
    deepEqual((await kv.get(authSecretKey())).value, s.key);
    const other = await Deno.openKv(":memory:");
    try {
      notDeepEqual((await resolveSecret(other)).key, s.key, "each KV has its own secret");
    } finally {
      other.close();
    }
  } finally {
    kv.close();
  }
});
