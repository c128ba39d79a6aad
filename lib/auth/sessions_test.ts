import { deepEqual, equal, match, ok } from "node:assert/strict";
import { sessionByUserKey, sessionKey } from "../kv/keys.ts";
import {
  createSession,
  DEFAULT_SESSION_TTL_SEC,
  deleteSession,
  deleteSessionsOf,
  getSession,
  isSessionId,
  listSessions,
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

Deno.test("[auth] sessions: the per-user index is written and deleted with the session", async () => {
  await withKv(async (kv) => {
    let t = 1_000_000;
    const now = () => t;
    const a = await createSession(kv, "user-1", { now });
    t += 10;
    const b = await createSession(kv, "user-1", { now });
    await createSession(kv, "user-2", { now });
    deepEqual((await listSessions(kv, "user-1", { now })).map((s) => s.id), [a.id, b.id]);
    deepEqual((await kv.get(sessionByUserKey("user-1", a.id))).value, a.record);
    await deleteSession(kv, a.id);
    equal((await kv.get(sessionByUserKey("user-1", a.id))).value, null, "index entry gone");
    equal((await kv.get(sessionKey(a.id))).value, null);
    deepEqual((await listSessions(kv, "user-1", { now })).map((s) => s.id), [b.id]);
    t = b.record.expiresAt;
    deepEqual(await listSessions(kv, "user-1", { now }), [], "expired sessions are not listed");
  });
});

Deno.test("[auth] sessions: deleteSessionsOf ends all but the kept one, in batches", async () => {
  await withKv(async (kv) => {
    const ids: string[] = [];
    for (let i = 0; i < 450; i++) ids.push((await createSession(kv, "many")).id);
    const other = await createSession(kv, "someone-else");
    const keep = ids[123];
    equal(await deleteSessionsOf(kv, "many", { except: keep }), 449);
    deepEqual((await listSessions(kv, "many")).map((s) => s.id), [keep]);
    ok(await getSession(kv, keep));
    equal(await getSession(kv, ids[0]), null);
    equal(await getSession(kv, ids[449]), null);
    ok(await getSession(kv, other.id), "other users keep their sessions");
    equal(await deleteSessionsOf(kv, "many"), 1);
    equal(await getSession(kv, keep), null);
    equal(await deleteSessionsOf(kv, "nobody"), 0);
  });
});
