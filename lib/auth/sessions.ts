/**
 * Login sessions in Deno KV: `["session", id]` → {@linkcode SessionRecord}, written with
 * `expireIn` so KV drops it eventually, and checked against the clock on every read
 * because KV's expiry is lazy.
 */
import { sessionKey } from "../bus/keys.ts";
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

/** Ends the session `id` (no error when it does not exist). */
export async function deleteSession(kv: Deno.Kv, id: string): Promise<void> {
  if (isSessionId(id)) await kv.delete(sessionKey(id));
}
