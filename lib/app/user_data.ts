/**
 * Everything the application keeps about one user, removed in one place when the
 * account is deleted. A feature that stores per-user data (a watchlist, alerts, …) adds
 * its keys to {@linkcode deleteUserData} and a case to its test.
 */
import { deleteAccountRecords, deleteSessionsOf } from "../auth/mod.ts";
import { busHeadKey, busHistoryPrefix } from "../kv/keys.ts";
import { deleteWatchlist } from "../prices/watchlist.ts";
import { deleteWatches } from "../wallet/watch.ts";
import { createInboxStore } from "../notifications/store.ts";
import { createRuleStore } from "../alerts/store.ts";
import type { Hub } from "../gateway/hub.ts";
import { CloseCode } from "../protocol/codes.ts";
import { userChannel } from "./channels.ts";

/** What {@linkcode deleteUserData} removed. */
export interface DeletedUserData {
  /** The account record and its username index were deleted (false: there was none). */
  account: boolean;
  /** Sessions ended. */
  sessions: number;
  /** Messages removed from the user's own channel (`user:{id}`) history. */
  notifications: number;
  /** Keys of the user's inbox removed (items, counts, preferences, markers). */
  inbox: number;
  /** Alert rules removed. */
  alerts: number;
}

/** Entries deleted per commit (KV allows 1 000 mutations per commit). */
const BATCH = 500;

async function deletePrefix(kv: Deno.Kv, prefix: Deno.KvKey): Promise<number> {
  let deleted = 0;
  let batch: Deno.KvKey[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const op = kv.atomic();
    for (const key of batch) op.delete(key);
    if (!(await op.commit()).ok) throw new Error("Cannot delete user data: the commit was refused");
    deleted += batch.length;
    batch = [];
  };
  for await (const entry of kv.list({ prefix })) {
    batch.push(entry.key);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  return deleted;
}

/**
 * Deletes the account `userId` and everything stored for it: first the account and its
 * username index (so no new sign-in can start), then every session, then the history
 * and head of the user's notification channel, the watchlist, the watched wallet
 * addresses, the alert rules and the inbox (items, counts, preferences). Safe to repeat.
 *
 * Not removed: messages the user published to shared channels (the lobby), which age
 * out of their channel's bounded history, publish idempotency markers (expire after
 * 10 minutes), the delivery queue's done markers of the user's notifications (expire after
 * 7 days) and the alert engine's reload marker (cleared by the engine within a tick).
 * Open WebSockets are closed by the caller (`hub.disconnectWhere`).
 */
export async function deleteUserData(kv: Deno.Kv, userId: string): Promise<DeletedUserData> {
  const account = await deleteAccountRecords(kv, userId);
  const sessions = await deleteSessionsOf(kv, userId);
  const channel = userChannel(userId);
  const notifications = await deletePrefix(kv, busHistoryPrefix(channel));
  await kv.delete(busHeadKey(channel));
  await deleteWatchlist(kv, userId);
  await deleteWatches(kv, userId);
  const alerts = await createRuleStore({ kv }).removeAll(userId);
  const inbox = await createInboxStore({ kv }).deleteAll(userId);
  return { account: account !== null, sessions, notifications, inbox, alerts };
}

/** Why a user's connections are closed by {@linkcode disconnectUser}. */
export type DisconnectReason = "password_changed" | "account_deleted";

/**
 * Closes this isolate's WebSockets of `userId`; returns how many. After a password change
 * they close with 4003 (reconnect with a valid credential: the sessions that were revoked
 * are refused, the one kept is not); after an account deletion with 4500 (terminal).
 * Sockets on other isolates stay open until their credential expires (docs/AUTH.md).
 */
export function disconnectUser(
  hub: Pick<Hub, "disconnectWhere">,
  userId: string,
  reason: DisconnectReason,
): number {
  const [code, text] = reason === "password_changed"
    ? [CloseCode.TokenExpired, "the password was changed; sign in again"]
    : [CloseCode.Unauthorized, "the account was deleted"];
  return hub.disconnectWhere((conn) => conn.principal.userId === userId, code, text);
}
