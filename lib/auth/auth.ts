/**
 * `createAuth()`: accounts, sessions, tokens, the Origin policy and the login limiter
 * behind one object, with every dependency (KV, secret, clock) passed in. It implements
 * {@linkcode UpgradeAuthenticator} for the gateway and what the routes need.
 */
import {
  type Account,
  type AccountResult,
  createAccount,
  findAccountById,
  findAccountByUsername,
  type NewAccount,
  setPassword,
  verifyLogin,
} from "./accounts.ts";
import { addressKey } from "./address.ts";
import { bearerFromRequest } from "./bearer.ts";
import {
  clearedSessionCookie,
  isSecureRequest,
  sessionCookie,
  sessionIdFromRequest,
} from "./cookie.ts";
import { createLimiter } from "./limiter.ts";
import { createLoginLimiter, type LoginLimits } from "./login_limiter.ts";
import type { AttemptStore } from "./attempts.ts";
import { createOriginPolicy, type OriginPolicy } from "./origin.ts";
import { DEFAULT_PBKDF2_ITERATIONS } from "./password.ts";
import { resolveSecret, type SecretSource } from "./secret.ts";
import { trimSpaces } from "./request.ts";
import { newPasswordProblem, usernameProblem } from "./rules.ts";
import {
  createSession,
  DEFAULT_SESSION_TTL_SEC,
  deleteSession,
  deleteSessionsOf,
  getSession,
  listSessions,
  type SessionInfo,
} from "./sessions.ts";
import { cachedVerifier } from "./token_cache.ts";
import {
  CLOCK_TOLERANCE_SEC,
  DEFAULT_TOKEN_TTL_SEC,
  issueAccessToken,
  type IssuedToken,
  type TokenSubject,
  verifyAccessToken,
} from "./tokens.ts";
import type { AuthFailure, AuthResult, Principal, UpgradeAuthenticator } from "./types.ts";
import { randomBytes, toBase64Url } from "./_util.ts";

export type { LoginLimits };

/**
 * Limits of account creation per client address. Counted in the memory of each isolate
 * (like {@linkcode LoginLimits}); an attempt counts once it passes the cheap checks and
 * before its password is hashed.
 */
export interface SignupLimits {
  /** Accounts created per client address and window (`SIGNUPS_PER_HOUR_PER_IP`). Default 5. */
  perIp?: number;
  /** Window in seconds. Default 3 600 (one hour). */
  windowSec?: number;
  /** Addresses tracked at most. Default 10 000. */
  maxKeys?: number;
}

/** Options of {@linkcode createAuth}. Everything is injected; only `kv` is required. */
export interface AuthOptions {
  kv: Deno.Kv;
  /** Token-signing secret (`AUTH_SECRET`, ≥ 32 bytes). Default: generated once in KV. */
  secret?: string;
  /** Origins allowed besides the request's own (`ALLOWED_ORIGINS`). Default none. */
  allowedOrigins?: readonly string[];
  /** Access-token lifetime. Default 900 (15 minutes). */
  tokenTtlSec?: number;
  /** Session lifetime. Default 604 800 (7 days). */
  sessionTtlSec?: number;
  /** PBKDF2 work factor for new hashes. Default 600 000. */
  pbkdf2Iterations?: number;
  /** Failed-login limits (login_limiter.ts). */
  loginLimits?: LoginLimits;
  /**
   * Where failed logins are counted (attempts.ts): default this isolate's memory; the app
   * passes the cluster's shared store (lib/cluster) so every isolate counts together.
   */
  loginAttempts?: AttemptStore;
  /** Account-creation limits. */
  signupLimits?: SignupLimits;
  /** Clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Waits `ms`: the progressive delay of a username under attack. Default a timer. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * The password check (default accounts.ts `verifyLogin`, one PBKDF2 verification).
   * Tests wrap it to count how many attempts were hashed.
   */
  verifyLogin?: typeof verifyLogin;
}

/** Why a login or a credential exchange was refused. */
export interface LoginFailure {
  ok: false;
  /** 401 wrong credentials, 429 too many failures. */
  status: 401 | 429;
  code: "invalid_credentials" | "too_many_attempts";
  /** Generic on purpose: never says whether the username exists. */
  message: string;
  /** With 429: seconds until the next attempt may succeed (`Retry-After`). */
  retryAfterSec?: number;
}

/** Outcome of {@linkcode Auth.verifyCredentials}. */
export type CredentialsResult = { ok: true; account: Account } | LoginFailure;

/** Outcome of {@linkcode Auth.login}. */
export type LoginResult =
  | {
    ok: true;
    account: Account;
    principal: Principal;
    /** The `Set-Cookie` header value carrying the new session. */
    setCookie: string;
  }
  | LoginFailure;

/** Which form field an account error is about (`null`: the whole request). */
export type AccountField = "username" | "password" | "current" | null;

/** Why a sign-up, a password change or an account deletion was refused. */
export interface AccountFailure {
  ok: false;
  /** 400 invalid input, 401 wrong current password, 409 name taken, 429 too many attempts. */
  status: 400 | 401 | 409 | 429;
  code:
    | "invalid_username"
    | "weak_password"
    | "username_taken"
    | "too_many_signups"
    | "invalid_credentials"
    | "too_many_attempts";
  /** One sentence for a person; never contains the password. */
  message: string;
  field: AccountField;
  /** With 429: seconds until the next attempt may succeed (`Retry-After`). */
  retryAfterSec?: number;
}

/** Outcome of {@linkcode Auth.signUp}. */
export type SignUpResult =
  | {
    ok: true;
    account: Account;
    principal: Principal;
    /** The `Set-Cookie` header value carrying the new session. */
    setCookie: string;
  }
  | AccountFailure;

/** Outcome of {@linkcode Auth.changePassword}. */
export type ChangePasswordResult = { ok: true; revokedSessions: number } | AccountFailure;

/** Where a login attempt came from (for the per-IP limit). */
export interface AttemptInfo {
  /** The client address, e.g. `ctx.remoteAddr.hostname`. */
  ip?: string;
}

/** Everything authentication offers the gateway and the routes. */
export interface Auth extends UpgradeAuthenticator {
  /** The KV it was given. */
  readonly kv: Deno.Kv;
  /** Where the signing secret came from (never the secret itself). */
  readonly secretSource: SecretSource;
  /** The Origin policy (also used for CORS of the token endpoint). */
  readonly origins: OriginPolicy;
  /** `null` when the request's `Origin` is acceptable, else a 403 `bad_origin`. */
  checkOrigin(req: Request): AuthFailure | null;
  /** Like {@linkcode checkOrigin} but only the app's own origin (or none) passes. */
  checkSameOrigin(req: Request): AuthFailure | null;
  /** Checks username and password under the failed-login limits. */
  verifyCredentials(
    username: string,
    password: string,
    info?: AttemptInfo,
  ): Promise<CredentialsResult>;
  /**
   * Creates an account for a person: the username and new-password rules (rules.ts), a
   * cheap "name taken" check, the per-address limit, then the hash and the atomic
   * create (one of two concurrent sign-ups for a name wins); starts a session.
   */
  signUp(
    req: Request,
    input: { username: string; password: string },
    info?: AttemptInfo,
  ): Promise<SignUpResult>;
  /**
   * Changes `user`'s password after verifying `current` under the failed-login limits,
   * then ends every other session of the user (the request's own session is kept).
   */
  changePassword(
    req: Request,
    user: Principal,
    input: { current: string; password: string },
    info?: AttemptInfo,
  ): Promise<ChangePasswordResult>;
  /** Checks a signed-in user's password again (before deleting the account). */
  confirmPassword(
    user: Principal,
    password: string,
    info?: AttemptInfo,
  ): Promise<{ ok: true; account: Account } | AccountFailure>;
  /** The live sessions of `userId` (see sessions.ts). */
  listSessions(userId: string): Promise<SessionInfo[]>;
  /** {@linkcode verifyCredentials}, then starts a session and returns its cookie. */
  login(req: Request, username: string, password: string, info?: AttemptInfo): Promise<LoginResult>;
  /** Ends the request's session (if any); returns the `Set-Cookie` value that clears it. */
  logout(req: Request): Promise<string>;
  /**
   * The session cookie's principal: `null` without a cookie, a 401 `invalid_session`
   * failure for an unknown, expired or orphaned session.
   */
  authenticateSession(req: Request): Promise<AuthResult | null>;
  /** The session's principal, or `null` (no cookie or an invalid one). */
  sessionFromRequest(req: Request): Promise<Principal | null>;
  /** Signs an access token for a signed-in principal or an account. */
  issueToken(subject: Principal | Account): Promise<IssuedToken>;
  /** A fresh anonymous principal (`anon:<random>`). */
  anonymous(): Principal;
  createAccount(input: NewAccount): Promise<AccountResult>;
  findAccountByUsername(username: string): Promise<Account | null>;
  findAccountById(userId: string): Promise<Account | null>;
  setPassword(
    userId: string,
    password: string,
  ): Promise<{ ok: true } | { ok: false; code: "weak_password" | "not_found"; message: string }>;
}

function failure(status: 401 | 403, code: string, message: string): AuthFailure {
  return { ok: false, status, code, message };
}

function refuse(
  status: AccountFailure["status"],
  code: AccountFailure["code"],
  message: string,
  field: AccountField,
): AccountFailure {
  return { ok: false, status, code, message, field };
}

function taken(username: string): AccountFailure {
  const message = `The username ${username.toLowerCase()} is already taken; choose another`;
  return refuse(409, "username_taken", message, "username");
}

function subjectOf(subject: Principal | Account): TokenSubject {
  if ("anonymous" in subject) {
    if (subject.anonymous) throw new Error("Cannot issue a token: the principal is anonymous");
    return { userId: subject.userId, name: subject.name, roles: subject.roles };
  }
  return { userId: subject.id, name: subject.username, roles: subject.roles };
}

/** Builds the authentication services. Resolves the signing secret (KV) first. */
export async function createAuth(options: AuthOptions): Promise<Auth> {
  const { kv } = options;
  const now = options.now ?? Date.now;
  const tokenTtlSec = options.tokenTtlSec ?? DEFAULT_TOKEN_TTL_SEC;
  const sessionTtlSec = options.sessionTtlSec ?? DEFAULT_SESSION_TTL_SEC;
  const iterations = options.pbkdf2Iterations ?? DEFAULT_PBKDF2_ITERATIONS;
  const secret = await resolveSecret(kv, options.secret);
  const origins = createOriginPolicy(options.allowedOrigins);
  const logins = createLoginLimiter({
    ...options.loginLimits,
    now,
    sleep: options.sleep,
    store: options.loginAttempts,
  });
  const checkPassword = options.verifyLogin ?? verifyLogin;
  const accountOptions = { iterations, now };
  const signups = options.signupLimits ?? {};
  const signupsByIp = createLimiter({
    budget: signups.perIp ?? 5,
    windowMs: (signups.windowSec ?? 3600) * 1000,
    maxKeys: signups.maxKeys,
    now,
  });

  async function startSession(req: Request, account: Account) {
    const session = await createSession(kv, account.id, { ttlSec: sessionTtlSec, now });
    return {
      principal: principalOf(account, session.record.expiresAt),
      setCookie: sessionCookie(session.id, {
        secure: isSecureRequest(req),
        maxAgeSec: sessionTtlSec,
      }),
    };
  }

  async function signUp(
    req: Request,
    input: { username: string; password: string },
    info: AttemptInfo = {},
  ): Promise<SignUpResult> {
    const username = trimSpaces(input.username);
    const nameProblem = usernameProblem(username);
    if (nameProblem) return refuse(400, "invalid_username", nameProblem, "username");
    const passwordProblem = newPasswordProblem(input.password, username);
    if (passwordProblem) return refuse(400, "weak_password", passwordProblem, "password");
    // Reserved before the first await, so concurrent sign-ups cannot overrun the limit.
    const attempt = signupsByIp.begin(addressKey(info.ip ?? "unknown"));
    if (!attempt.ok) {
      const minutes = Math.ceil(attempt.retryAfterSec / 60);
      const message =
        `Too many accounts were created from your address; try again in ${minutes} min`;
      return {
        ...refuse(429, "too_many_signups", message, null),
        retryAfterSec: attempt.retryAfterSec,
      };
    }
    let existing;
    try {
      existing = await findAccountByUsername(kv, username);
    } catch (error) {
      attempt.release();
      throw error;
    }
    if (existing) {
      attempt.release(); // a taken name costs nothing and does not count
      return taken(username);
    }
    attempt.count(); // counted before the (expensive) hash
    const created = await createAccount(kv, { username, password: input.password }, accountOptions);
    if (!created.ok) {
      if (created.code === "username_taken") return taken(username);
      const field = created.code === "invalid_username" ? "username" : "password";
      return refuse(400, created.code, created.message, field);
    }
    return { ok: true, account: created.account, ...await startSession(req, created.account) };
  }

  async function confirmPassword(
    user: Principal,
    password: string,
    info: AttemptInfo = {},
  ): Promise<{ ok: true; account: Account } | AccountFailure> {
    const verdict = await verifyCredentials(user.name, password, info);
    if (verdict.ok && verdict.account.id === user.userId) return verdict;
    if (!verdict.ok && verdict.status === 429) {
      return {
        ...refuse(429, verdict.code, verdict.message, "current"),
        retryAfterSec: verdict.retryAfterSec,
      };
    }
    return refuse(401, "invalid_credentials", "The current password is wrong", "current");
  }

  async function verifyCredentials(
    username: string,
    password: string,
    info: AttemptInfo = {},
  ): Promise<CredentialsResult> {
    // Reserved before the hash: an attempt in flight counts against the budgets.
    const gate = await logins.enter(username, info.ip ?? "unknown");
    if (!gate.ok) {
      return {
        ok: false,
        status: 429,
        code: "too_many_attempts",
        message: `Too many failed sign-ins; try again in ${Math.ceil(gate.retryAfterSec / 60)} min`,
        retryAfterSec: gate.retryAfterSec,
      };
    }
    let account: Account | null;
    try {
      account = await checkPassword(kv, username, password, accountOptions);
    } catch (error) {
      await gate.abandon();
      throw error;
    }
    if (!account) {
      await gate.fail();
      return {
        ok: false,
        status: 401,
        code: "invalid_credentials",
        message: "Wrong username or password",
      };
    }
    await gate.succeed();
    return { ok: true, account };
  }

  function principalOf(account: Account, expiresAt: number): Principal {
    return {
      userId: account.id,
      name: account.username,
      anonymous: false,
      via: "cookie",
      expiresAt,
      roles: [...account.roles],
    };
  }

  async function authenticateSession(req: Request): Promise<AuthResult | null> {
    const id = sessionIdFromRequest(req);
    if (id === undefined || id === "") return null;
    const session = await getSession(kv, id, { now });
    const account = session && await findAccountById(kv, session.userId);
    if (!session || !account) {
      return failure(401, "invalid_session", "The session has expired or was signed out");
    }
    return { ok: true, principal: principalOf(account, session.expiresAt) };
  }

  function anonymous(): Principal {
    return {
      userId: `anon:${toBase64Url(randomBytes(12))}`,
      name: "anonymous",
      anonymous: true,
      via: "anonymous",
      expiresAt: null,
      roles: [],
    };
  }

  // Verified tokens are kept (bounded, until they expire): reconnects skip the HMAC check.
  const verifyToken = cachedVerifier(
    (token) => verifyAccessToken(secret.key, token, { now }),
    { toleranceSec: CLOCK_TOLERANCE_SEC, now },
  );

  return {
    kv,
    secretSource: secret.source,
    origins,
    checkOrigin: (req) => origins.check(req),
    checkSameOrigin: (req) => origins.checkSameOrigin(req),
    verifyCredentials,
    signUp,
    async changePassword(req, user, input, info) {
      const problem = newPasswordProblem(input.password, user.name);
      if (problem) return refuse(400, "weak_password", problem, "password");
      if (input.password === input.current) {
        const message = "The new password must differ from the current one";
        return refuse(400, "weak_password", message, "password");
      }
      const confirmed = await confirmPassword(user, input.current, info);
      if (!confirmed.ok) return confirmed;
      const set = await setPassword(kv, user.userId, input.password, accountOptions);
      if (!set.ok) {
        return refuse(401, "invalid_credentials", "The account no longer exists", null);
      }
      const except = sessionIdFromRequest(req);
      const revokedSessions = await deleteSessionsOf(kv, user.userId, { except });
      return { ok: true, revokedSessions };
    },
    confirmPassword,
    listSessions: (userId) => listSessions(kv, userId, { now }),
    async login(req, username, password, info) {
      const verdict = await verifyCredentials(username, password, info);
      if (!verdict.ok) return verdict;
      return { ok: true, account: verdict.account, ...await startSession(req, verdict.account) };
    },
    async logout(req) {
      const id = sessionIdFromRequest(req);
      if (id) await deleteSession(kv, id);
      return clearedSessionCookie({ secure: isSecureRequest(req) });
    },
    authenticateSession,
    async sessionFromRequest(req) {
      const result = await authenticateSession(req);
      return result?.ok ? result.principal : null;
    },
    async authenticateUpgrade(req) {
      const refused = origins.check(req);
      if (refused) return refused;
      const bearer = bearerFromRequest(req);
      if (bearer.kind === "malformed") return failure(401, "invalid_token", bearer.message);
      if (bearer.kind === "token") return await verifyToken(bearer.token);
      return await authenticateSession(req) ?? { ok: true, principal: anonymous() };
    },
    verifyAccessToken: verifyToken,
    issueToken(subject) {
      return issueAccessToken(secret.key, subjectOf(subject), { ttlSec: tokenTtlSec, now });
    },
    anonymous,
    createAccount: (input) => createAccount(kv, input, accountOptions),
    findAccountByUsername: (username) => findAccountByUsername(kv, username),
    findAccountById: (userId) => findAccountById(kv, userId),
    setPassword: (userId, password) => setPassword(kv, userId, password, accountOptions),
  };
}
