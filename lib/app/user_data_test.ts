import { deepEqual, equal, ok } from "node:assert/strict";
import { createAuth } from "../auth/mod.ts";
import {
  accountByUsernameKey,
  accountKey,
  busHeadKey,
  busHistoryKey,
  sessionByUserPrefix,
  sessionKey,
} from "../bus/keys.ts";
import type { Connection } from "../gateway/connection.ts";
import { CloseCode } from "../protocol/codes.ts";
import { userChannel } from "./channels.ts";
import { deleteUserData, disconnectUser } from "./user_data.ts";

async function keys(kv: Deno.Kv): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of kv.list({ prefix: [] })) out.push(JSON.stringify(entry.key));
  return out;
}

Deno.test("[app] deleteUserData removes the account, its sessions and its channel", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const auth = await createAuth({ kv, pbkdf2Iterations: 1_000 });
    const req = new Request("http://localhost/signup", { method: "POST" });
    const password = "violet-harbor-lantern";
    const gone = await auth.signUp(req, { username: "gone", password }, { ip: "10.0.0.1" });
    const stays = await auth.signUp(req, { username: "stays", password }, { ip: "10.0.0.2" });
    ok(gone.ok && stays.ok);
    const id = gone.account.id;
    for (let i = 0; i < 2; i++) ok((await auth.login(req, "gone", password)).ok);
    for (const userId of [id, stays.account.id]) {
      await kv.set(busHeadKey(userChannel(userId)), { epoch: "e", offset: 3 });
      for (let offset = 1; offset <= 3; offset++) {
        await kv.set(busHistoryKey(userChannel(userId), offset), { offset });
      }
    }
    const before = await keys(kv);

    deepEqual(await deleteUserData(kv, id), { account: true, sessions: 3, notifications: 3 });

    const after = await keys(kv);
    const mentionsGone = after.filter((k) => k.includes(id) || k.includes('"gone"'));
    deepEqual(mentionsGone, [], "no key of the deleted user is left");
    equal((await kv.get(accountKey(id))).value, null);
    equal((await kv.get(accountByUsernameKey("gone"))).value, null);
    equal((await kv.get(busHeadKey(userChannel(id)))).value, null);
    // Exactly the deleted user's keys went: account, name, 3 sessions + 3 index entries,
    // the channel head and 3 history entries.
    equal(before.length - after.length, 2 + 6 + 1 + 3);
    ok((await kv.get(accountKey(stays.account.id))).value, "the other user stays");
    let otherSessions = 0;
    for await (const _ of kv.list({ prefix: sessionByUserPrefix(stays.account.id) })) {
      otherSessions++;
    }
    equal(otherSessions, 1);
    ok(after.some((k) => k.startsWith('["session"')), "the other user's session stays");
    ok((await kv.get(busHeadKey(userChannel(stays.account.id)))).value);
    equal((await auth.verifyCredentials("gone", password)).ok, false, "cannot sign in");
    deepEqual(await deleteUserData(kv, id), { account: false, sessions: 0, notifications: 0 });
    equal((await kv.get(sessionKey("x"))).value, null);
  } finally {
    kv.close();
  }
});

Deno.test("[app] disconnectUser closes only that user's sockets, with the right code", () => {
  const conns = [
    { principal: { userId: "u1" } },
    { principal: { userId: "u2" } },
    { principal: { userId: "u1" } },
  ] as Connection[];
  const closed: [string, number, string][] = [];
  const hub = {
    disconnectWhere(filter: (conn: Connection) => boolean, code: number, reason: string) {
      const hit = conns.filter(filter);
      for (const c of hit) closed.push([c.principal.userId, code, reason]);
      return hit.length;
    },
  };
  equal(disconnectUser(hub, "u1", "account_deleted"), 2);
  deepEqual(closed.map(([u, c]) => [u, c]), [["u1", CloseCode.Unauthorized], [
    "u1",
    CloseCode.Unauthorized,
  ]]);
  closed.length = 0;
  equal(disconnectUser(hub, "u2", "password_changed"), 1);
  deepEqual(closed, [["u2", CloseCode.TokenExpired, "the password was changed; sign in again"]]);
  equal(disconnectUser(hub, "nobody", "account_deleted"), 0);
});
