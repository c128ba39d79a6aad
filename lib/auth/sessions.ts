/**
 * Login sessions in Deno KV: `["session", id]` → {@linkcode SessionRecord}, written with
 * `expireIn` so KV drops it eventually, and checked against the clock on every read
 * because KV's expiry is lazy. `["session_by_user", userId, id]` indexes a user's
 * sessions (same commit, same expiry) so they can be listed and revoked together.
 */
import { sessionByUserKey, sessionByUserPrefix, sessionKey } from "../kv/keys.ts";
import { randomBytes, toBase64Url } from "./_util.ts";

/** Seven days. */
export const DEFAULT_SESSION_TTL_SEC = 7 * 24 * 60 * 60;

/** What KV stores for a session. The id is the key, never part of the value. */
export interface SessionRecord {
  userId: string;
  /** ms since the epoch. */
  createdAt: number;
  /** ms since the epoch. */
  expiresAt: number;
}

/** Lifetime and clock of sessions. */
export interface SessionOptions {
  /** Default {@linkcode DEFAULT_SESSION_TTL_SEC}. */
  ttlSec?: number;
  /** Clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** A new session: its secret id (the cookie value) and its record. */
export interface NewSession {
  id: string;
  record: SessionRecord;
}

/** 32 random bytes, base64url: 43 characters. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** True for strings shaped like a session id (no KV read for garbage). */
export function isSessionId(value: string): boolean {
  return SESSION_ID.test(value);
}

/** Starts a session for `userId`. */
export async function createSession(
  kv: Deno.Kv,
  userId: string,
  options: SessionOptions = {},
): Promise<NewSession> {
  const ttlMs = (options.ttlSec ?? DEFAULT_SESSION_TTL_SEC) * 1000;
  const createdAt = (options.now ?? Date.now)();
  const id = toBase64Url(randomBytes(32));
  const record: SessionRecord = { userId, createdAt, expiresAt: createdAt + ttlMs };
  const commit = await kv.atomic()
    .check({ key: sessionKey(id), versionstamp: null })
    .set(sessionKey(id), record, { expireIn: ttlMs })
    .set(sessionByUserKey(userId, id), record, { expireIn: ttlMs })
    .commit();
  if (!commit.ok) throw new Error("Cannot create session: id collision");
  return { id, record };
}

/** The live session `id`, or `null` when it is unknown, malformed or expired. */
export async function getSession(
  kv: Deno.Kv,
  id: string,
  options: Pick<SessionOptions, "now"> = {},
): Promise<SessionRecord | null> {
  if (!isSessionId(id)) return null;
  const { value } = await kv.get<SessionRecord>(sessionKey(id));
  if (!value || value.expiresAt <= (options.now ?? Date.now)()) return null;
  return value;
}

/** Ends the session `id` and drops it from its user's index (no error when it does not exist). */
export async function deleteSession(kv: Deno.Kv, id: string): Promise<void> {
  if (!isSessionId(id)) return;
  const { value } = await kv.get<SessionRecord>(sessionKey(id));
  const op = kv.atomic().delete(sessionKey(id));
  if (value) op.delete(sessionByUserKey(value.userId, id));
  await op.commit();
}

/** One of a user's sessions, as {@linkcode listSessions} returns it. */
export interface SessionInfo {
  id: string;
  createdAt: number;
  expiresAt: number;
}

/** The live sessions of `userId`, oldest first (sessions from before the index are not listed). */
export async function listSessions(
  kv: Deno.Kv,
  userId: string,
  options: Pick<SessionOptions, "now"> = {},
): Promise<SessionInfo[]> {
  const now = (options.now ?? Date.now)();
  const sessions: SessionInfo[] = [];
  for await (const entry of kv.list<SessionRecord>({ prefix: sessionByUserPrefix(userId) })) {
    if (entry.value.expiresAt <= now) continue;
    sessions.push({
      id: String(entry.key[2]),
      createdAt: entry.value.createdAt,
      expiresAt: entry.value.expiresAt,
    });
  }
  return sessions.sort((a, b) => a.createdAt - b.createdAt);
}

/** Sessions deleted per commit (two mutations each; KV allows 1 000 per commit). */
const DELETE_BATCH = 200;

/**
 * Ends every indexed session of `userId` except `options.except` (the caller's own);
 * returns how many were ended. Works through any number of sessions, one commit per
 * {@linkcode DELETE_BATCH}.
 */
export async function deleteSessionsOf(
  kv: Deno.Kv,
  userId: string,
  options: { except?: string } = {},
): Promise<number> {
  let deleted = 0;
  let batch: string[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const op = kv.atomic();
    for (const id of batch) op.delete(sessionKey(id)).delete(sessionByUserKey(userId, id));
    const commit = await op.commit();
    if (!commit.ok) throw new Error("Cannot end sessions: the commit was refused");
    deleted += batch.length;
    batch = [];
  };
  for await (const entry of kv.list({ prefix: sessionByUserPrefix(userId) })) {
    const id = String(entry.key[2]);
    if (id === options.except) continue;
    batch.push(id);
    if (batch.length >= DELETE_BATCH) await flush();
  }
  await flush();
  return deleted;
}
