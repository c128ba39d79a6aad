/**
 * Every Deno KV key the application uses is built here, so the key space is
 * documented in one place and no module invents keys of its own.
 *
 * | key                             | value                             | written by           |
 * | ------------------------------- | --------------------------------- | -------------------- |
 * | `["prices", "board"]`           | {@linkcode PriceBoard}            | market producer      |
 * | `["lease", name]`               | {@linkcode LeaseRecord}           | lease holders        |
 * | `["account", userId]`           | `StoredAccount` (lib/auth)        | lib/auth/accounts.ts |
 * | `["account_by_username", name]` | userId; unique, `name` lowercased | lib/auth/accounts.ts |
 * | `["session", sessionId]`        | `SessionRecord`, with `expireIn`  | lib/auth/sessions.ts |
 * | `["auth", "secret"]`            | token-signing secret (32 bytes)   | lib/auth/secret.ts   |
 */

/** The latest quote of every symbol, one value (well under KV's 64 KiB limit). */
export function priceBoardKey(): Deno.KvKey {
  return ["prices", "board"];
}

/** A named singleton lease (e.g. `market`). */
export function leaseKey(name: string): Deno.KvKey {
  return ["lease", name];
}

/** An account by its user id. */
export function accountKey(userId: string): Deno.KvKey {
  return ["account", userId];
}

/** The unique username index: the lowercased username → user id. */
export function accountByUsernameKey(username: string): Deno.KvKey {
  return ["account_by_username", username.toLowerCase()];
}

/** A login session by its (random, secret) id; written with `expireIn`. */
export function sessionKey(sessionId: string): Deno.KvKey {
  return ["session", sessionId];
}

/** The token-signing secret generated when `AUTH_SECRET` is not set. */
export function authSecretKey(): Deno.KvKey {
  return ["auth", "secret"];
}
