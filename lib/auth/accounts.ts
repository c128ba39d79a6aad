/**
 * Accounts in Deno KV: `["account", userId]` holds the record and
 * `["account_by_username", name]` is the unique index (see lib/kv/keys.ts). Both are
 * written by one atomic commit that requires the index key to be absent, so two
 * concurrent sign-ups for one name cannot both succeed.
 */
import { accountByUsernameKey, accountKey } from "../kv/keys.ts";
import { MAX_PASSWORD_LENGTH, normalizeUsername, usernameProblem } from "./rules.ts";
import { ulid } from "./_util.ts";
import {
  decoyHash,
  DEFAULT_PBKDF2_ITERATIONS,
  hashPassword,
  needsRehash,
  verifyPassword,
} from "./password.ts";

/** An account as the rest of the application sees it (no password hash). */
export interface Account {
  /** ULID: time-ordered, random. */
  id: string;
  /** Lowercase, 3–32 characters of `a-z 0-9 _ . -`. */
  username: string;
  roles: string[];
  /** ms since the epoch. */
  createdAt: number;
}

/** The KV record of an account. */
export interface StoredAccount extends Account {
  /** `pbkdf2-sha256$…` (see password.ts). */
  passwordHash: string;
}

/** Why an account could not be created or changed. */
export type AccountErrorCode = "invalid_username" | "weak_password" | "username_taken";

/** Outcome of {@linkcode createAccount}. */
export type AccountResult =
  | { ok: true; account: Account }
  | { ok: false; code: AccountErrorCode; message: string };

/** Input of {@linkcode createAccount}. */
export interface NewAccount {
  username: string;
  password: string;
  /** Default `["user"]`. */
  roles?: string[];
}

/** Work factor and clock of the account functions. */
export interface AccountOptions {
  /** PBKDF2 iterations for new hashes. Default 600 000. */
  iterations?: number;
  /** Clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

export { normalizeUsername };

/**
 * The floor every stored password must meet, including an operator's `DEMO_PASSWORD`.
 * Passwords people choose meet the stricter rules of rules.ts (`MIN_PASSWORD_LENGTH`,
 * the common-password list), checked by sign-up and password change before this.
 */
export const MIN_ANY_PASSWORD_LENGTH = 8;

/** Why `password` cannot be stored at all, or `null` when it can. */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_ANY_PASSWORD_LENGTH) {
    return `Password must have at least ${MIN_ANY_PASSWORD_LENGTH} characters`;
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    return `Password must have at most ${MAX_PASSWORD_LENGTH} characters`;
  }
  return null;
}

function publicAccount(stored: StoredAccount): Account {
  return {
    id: stored.id,
    username: stored.username,
    roles: [...stored.roles],
    createdAt: stored.createdAt,
  };
}

/** Creates an account; fails with `username_taken` when the name exists (any case). */
export async function createAccount(
  kv: Deno.Kv,
  input: NewAccount,
  options: AccountOptions = {},
): Promise<AccountResult> {
  const username = normalizeUsername(input.username);
  if (!username) {
    return {
      ok: false,
      code: "invalid_username",
      message: usernameProblem(input.username) ?? "Username is not valid",
    };
  }
  const problem = passwordProblem(input.password);
  if (problem) return { ok: false, code: "weak_password", message: problem };
  const now = options.now ?? Date.now;
  const passwordHash = await hashPassword(input.password, {
    iterations: options.iterations ?? DEFAULT_PBKDF2_ITERATIONS,
  });
  const createdAt = now();
  const record: StoredAccount = {
    id: ulid(createdAt),
    username,
    roles: [...(input.roles ?? ["user"])],
    createdAt,
    passwordHash,
  };
  const commit = await kv.atomic()
    .check({ key: accountByUsernameKey(username), versionstamp: null })
    .check({ key: accountKey(record.id), versionstamp: null })
    .set(accountKey(record.id), record)
    .set(accountByUsernameKey(username), record.id)
    .commit();
  if (!commit.ok) {
    return {
      ok: false,
      code: "username_taken",
      message: `The username ${username} is already taken; choose another`,
    };
  }
  return { ok: true, account: publicAccount(record) };
}

async function storedByUsername(
  kv: Deno.Kv,
  username: string,
): Promise<Deno.KvEntryMaybe<StoredAccount> | null> {
  const name = normalizeUsername(username);
  if (!name) return null;
  const index = await kv.get<string>(accountByUsernameKey(name));
  if (index.value === null) return null;
  const entry = await kv.get<StoredAccount>(accountKey(index.value));
  return entry.value === null ? null : entry;
}

/** The account named `username` (case-insensitive), or `null`. */
export async function findAccountByUsername(
  kv: Deno.Kv,
  username: string,
): Promise<Account | null> {
  const entry = await storedByUsername(kv, username);
  return entry?.value ? publicAccount(entry.value) : null;
}

/** The account with id `userId`, or `null`. */
export async function findAccountById(kv: Deno.Kv, userId: string): Promise<Account | null> {
  const entry = await kv.get<StoredAccount>(accountKey(userId));
  return entry.value ? publicAccount(entry.value) : null;
}

/** Replaces the password of `userId` (hashed with the configured work factor). */
export async function setPassword(
  kv: Deno.Kv,
  userId: string,
  password: string,
  options: AccountOptions = {},
): Promise<{ ok: true } | { ok: false; code: "weak_password" | "not_found"; message: string }> {
  const problem = passwordProblem(password);
  if (problem) return { ok: false, code: "weak_password", message: problem };
  const passwordHash = await hashPassword(password, {
    iterations: options.iterations ?? DEFAULT_PBKDF2_ITERATIONS,
  });
  for (;;) {
    const entry = await kv.get<StoredAccount>(accountKey(userId));
    if (!entry.value) return { ok: false, code: "not_found", message: "No such account" };
    const commit = await kv.atomic()
      .check(entry)
      .set(accountKey(userId), { ...entry.value, passwordHash })
      .commit();
    if (commit.ok) return { ok: true };
  }
}

const decoys = new Map<number, string>();

/**
 * The account when `username` and `password` match, else `null`. An unknown or invalid
 * username costs one PBKDF2 verification too (against a decoy hash), so the answer time
 * does not tell whether the user exists. A hash made with another work factor is
 * replaced after a successful login.
 */
export async function verifyLogin(
  kv: Deno.Kv,
  username: string,
  password: string,
  options: AccountOptions = {},
): Promise<Account | null> {
  const iterations = options.iterations ?? DEFAULT_PBKDF2_ITERATIONS;
  const entry = await storedByUsername(kv, username);
  if (!entry?.value) {
    let decoy = decoys.get(iterations);
    if (!decoy) decoys.set(iterations, decoy = decoyHash(iterations));
    await verifyPassword(password, decoy);
    return null;
  }
  const stored = entry.value;
  if (!(await verifyPassword(password, stored.passwordHash))) return null;
  if (needsRehash(stored.passwordHash, iterations)) {
    const passwordHash = await hashPassword(password, { iterations });
    // Best effort: a concurrent change (e.g. a new password) wins over the re-hash.
    await kv.atomic().check(entry).set(entry.key, { ...stored, passwordHash }).commit();
  }
  return publicAccount(stored);
}

/**
 * Deletes the account `userId` and its username index in one commit (the index only
 * when it still points at this account). Returns the deleted account, or `null` when
 * there was none. Sessions and other data are removed by the caller (see
 * lib/app/user_data.ts, `deleteUserData`).
 */
export async function deleteAccountRecords(kv: Deno.Kv, userId: string): Promise<Account | null> {
  for (;;) {
    const entry = await kv.get<StoredAccount>(accountKey(userId));
    if (!entry.value) return null;
    const indexKey = accountByUsernameKey(entry.value.username);
    const index = await kv.get<string>(indexKey);
    const op = kv.atomic().check(entry).check(index).delete(entry.key);
    if (index.value === userId) op.delete(indexKey);
    if ((await op.commit()).ok) return publicAccount(entry.value);
  }
}
