import { deepEqual, equal, ok } from "node:assert/strict";
import { addWatched, isWatching } from "../wallet/watch.ts";
import { createAuth } from "../auth/mod.ts";
import {
  accountByUsernameKey,
  accountKey,
  busHeadKey,
  busHistoryKey,
  sessionByUserPrefix,
  sessionKey,
  watchlistKey,
} from "../kv/keys.ts";
import type { Connection } from "../gateway/connection.ts";
import { CloseCode } from "../protocol/codes.ts";
import { userChannel } from "./channels.ts";
import { deleteUserData, disconnectUser } from "./user_data.ts";
import { createInboxStore } from "../notifications/store.ts";
import { createRuleStore } from "../alerts/store.ts";

async function keys(kv: Deno.Kv): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of kv.list({ prefix: [] })) out.push(JSON.stringify(entry.key));
  return out;
}

const WATCHED = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

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
    for (const userId of [id, stays.account.id]) {
      await kv.set(watchlistKey(userId), { symbols: ["BTC-USD"], updatedAt: 1 });
      await addWatched(kv, userId, WATCHED, "");
    }
    const before = await keys(kv);

    deepEqual(await deleteUserData(kv, id), {
      account: true,
      sessions: 3,
      notifications: 3,
      inbox: 0,
      alerts: 0,
    });

    const after = await keys(kv);
    const mentionsGone = after.filter((k) => k.includes(id) || k.includes('"gone"'));
    deepEqual(mentionsGone, [], "no key of the deleted user is left");
    equal((await kv.get(accountKey(id))).value, null);
    equal((await kv.get(accountByUsernameKey("gone"))).value, null);
    equal((await kv.get(busHeadKey(userChannel(id)))).value, null);
    // Exactly the deleted user's keys went: account, name, 3 sessions + 3 index entries,
    // the channel head and 3 history entries, the watchlist, the watched addresses and
    // their index entry.
    equal(before.length - after.length, 2 + 6 + 1 + 3 + 1 + 2);
    equal(await isWatching(kv, stays.account.id, WATCHED), true, "the other user's watch stays");
    ok((await kv.get(watchlistKey(stays.account.id))).value, "the other user's watchlist stays");
    ok((await kv.get(accountKey(stays.account.id))).value, "the other user stays");
    let otherSessions = 0;
    for await (const _ of kv.list({ prefix: sessionByUserPrefix(stays.account.id) })) {
      otherSessions++;
    }
    equal(otherSessions, 1);
    ok(after.some((k) => k.startsWith('["session"')), "the other user's session stays");
    ok((await kv.get(busHeadKey(userChannel(stays.account.id)))).value);
    equal((await auth.verifyCredentials("gone", password)).ok, false, "cannot sign in");
    deepEqual(await deleteUserData(kv, id), {
      account: false,
      sessions: 0,
      notifications: 0,
      inbox: 0,
      alerts: 0,
    });
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

Deno.test("[app] deleteUserData removes the inbox, its preferences and the alert rules", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const inbox = createInboxStore({ kv });
    const rules = createRuleStore({ kv });
    for (const userId of ["gone-user", "stays-user"]) {
      for (let i = 0; i < 3; i++) {
        await inbox.deliver({
          userId,
          category: "system",
          priority: "normal",
          title: `t${i}`,
          body: "",
          idempotencyKey: `k${i}`,
        });
      }
      await inbox.setPreferences(userId, { muted: ["mention"], minPriority: "low" });
      for (const level of [1, 2]) {
        const r = await rules.create(userId, {
          condition: { kind: "above", symbol: "BTC-USD", level },
        });
        ok(r.ok);
      }
    }
    const result = await deleteUserData(kv, "gone-user");
    equal(result.alerts, 2);
    equal(result.inbox, 3 + 3 + 1 + 1, "3 items, 3 idempotency markers, the head, the preferences");
    const left = (await keys(kv)).filter((k) => k.includes("gone-user"));
    deepEqual(left, ['["alert_dirty","gone-user"]'], "only the engine's reload marker is left");
    equal((await inbox.list("stays-user")).items.length, 3, "the other user's inbox stays");
    equal((await rules.list("stays-user")).length, 2, "the other user's rules stay");
  } finally {
    kv.close();
  }
});
