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
import { bearerFromRequest } from "./bearer.ts";
import {
  clearedSessionCookie,
  isSecureRequest,
  sessionCookie,
  sessionIdFromRequest,
} from "./cookie.ts";
import { createLimiter } from "./limiter.ts";
import { createOriginPolicy, type OriginPolicy } from "./origin.ts";
import { DEFAULT_PBKDF2_ITERATIONS } from "./password.ts";
import { resolveSecret, type SecretSource } from "./secret.ts";
import { createSession, DEFAULT_SESSION_TTL_SEC, deleteSession, getSession } from "./sessions.ts";
import {
  DEFAULT_TOKEN_TTL_SEC,
  issueAccessToken,
  type IssuedToken,
  type TokenSubject,
  verifyAccessToken,
} from "./tokens.ts";
import type { AuthFailure, AuthResult, Principal, UpgradeAuthenticator } from "./types.ts";
import { randomBytes, toBase64Url } from "./_util.ts";

/** Limits of failed logins, per username and per client IP. */
export interface LoginLimits {
  /** Failures per username and window. Default 10. */
  perUsername?: number;
  /** Failures per client IP and window. Default 30. */
  perIp?: number;
  /** Window in seconds. Default 900 (15 minutes). */
  windowSec?: number;
  /** Usernames and IPs tracked at most (each). Default 10 000. */
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
  /** Failed-login limits. */
  loginLimits?: LoginLimits;
  /** Clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
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
  /** Checks username and password under the failed-login limits. */
  verifyCredentials(
    username: string,
    password: string,
    info?: AttemptInfo,
  ): Promise<CredentialsResult>;
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
  setPassword(
    userId: string,
    password: string,
  ): Promise<{ ok: true } | { ok: false; code: "weak_password" | "not_found"; message: string }>;
}

function failure(status: 401 | 403, code: string, message: string): AuthFailure {
  return { ok: false, status, code, message };
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
  const limits = options.loginLimits ?? {};
  const windowMs = (limits.windowSec ?? 900) * 1000;
  const byUsername = createLimiter({
    maxFailures: limits.perUsername ?? 10,
    windowMs,
    maxKeys: limits.maxKeys,
    now,
  });
  const byIp = createLimiter({
    maxFailures: limits.perIp ?? 30,
    windowMs,
    maxKeys: limits.maxKeys,
    now,
  });
  const accountOptions = { iterations, now };

  async function verifyCredentials(
    username: string,
    password: string,
    info: AttemptInfo = {},
  ): Promise<CredentialsResult> {
    const userKey = username.toLowerCase().slice(0, 64);
    const ipKey = info.ip ?? "unknown";
    const allowed = [byUsername.check(userKey), byIp.check(ipKey)];
    const wait = Math.max(...allowed.map((v) => v.ok ? 0 : v.retryAfterSec));
    if (wait > 0) {
      return {
        ok: false,
        status: 429,
        code: "too_many_attempts",
        message: `Too many failed sign-ins; try again in ${Math.ceil(wait / 60)} min`,
        retryAfterSec: wait,
      };
    }
    const account = await verifyLogin(kv, username, password, accountOptions);
    if (!account) {
      byUsername.fail(userKey);
      byIp.fail(ipKey);
      return {
        ok: false,
        status: 401,
        code: "invalid_credentials",
        message: "Wrong username or password",
      };
    }
    byUsername.reset(userKey);
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

  function verifyToken(token: string): Promise<AuthResult> {
    return verifyAccessToken(secret.key, token, { now });
  }

  return {
    kv,
    secretSource: secret.source,
    origins,
    checkOrigin: (req) => origins.check(req),
    verifyCredentials,
    async login(req, username, password, info) {
      const verdict = await verifyCredentials(username, password, info);
      if (!verdict.ok) return verdict;
      const session = await createSession(kv, verdict.account.id, { ttlSec: sessionTtlSec, now });
      return {
        ok: true,
        account: verdict.account,
        principal: principalOf(verdict.account, session.record.expiresAt),
        setCookie: sessionCookie(session.id, {
          secure: isSecureRequest(req),
          maxAgeSec: sessionTtlSec,
        }),
      };
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
    setPassword: (userId, password) => setPassword(kv, userId, password, accountOptions),
  };
}
