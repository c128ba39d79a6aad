import { equal, match, ok } from "node:assert/strict";
import { sessionKey } from "../bus/keys.ts";
import {
  createSession,
  DEFAULT_SESSION_TTL_SEC,
  deleteSession,
  getSession,
  isSessionId,
} from "./sessions.ts";

async function withKv(fn: (kv: Deno.Kv) => Promise<void>): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  try {
    await fn(kv);
  } finally {
    kv.close();
  }
}

Deno.test("[auth] sessions: random 32-byte ids, 7 days by default", async () => {
  await withKv(async (kv) => {
    let t = 1_000_000;
    const now = () => t;
    equal(DEFAULT_SESSION_TTL_SEC, 604_800);
    const a = await createSession(kv, "user-1", { now });
    const b = await createSession(kv, "user-1", { now });
    match(a.id, /^[A-Za-z0-9_-]{43}$/);
    ok(a.id !== b.id);
    equal(a.record.expiresAt - a.record.createdAt, 604_800_000);
    equal((await getSession(kv, a.id, { now }))?.userId, "user-1");
    equal((await kv.get(sessionKey(a.id))).value !== null, true);
    t += 1000;
    equal((await getSession(kv, b.id, { now }))?.createdAt, 1_000_000);
  });
});

Deno.test("[auth] sessions: expiry follows the injected clock", async () => {
  await withKv(async (kv) => {
    let t = 5_000_000;
    const now = () => t;
    const s = await createSession(kv, "user-2", { ttlSec: 60, now });
    t += 59_999;
    ok(await getSession(kv, s.id, { now }));
    t += 1;
    equal(await getSession(kv, s.id, { now }), null);
  });
});

Deno.test("[auth] sessions: delete, unknown and malformed ids", async () => {
  await withKv(async (kv) => {
    const s = await createSession(kv, "user-3");
    await deleteSession(kv, s.id);
    equal(await getSession(kv, s.id), null);
    await deleteSession(kv, s.id); // twice is fine
    equal(await getSession(kv, "A".repeat(43)), null);
    for (const bad of ["", "short", "A".repeat(44), "A".repeat(42) + "!"]) {
      ok(!isSessionId(bad), bad);
      equal(await getSession(kv, bad), null);
    }
  });
});
