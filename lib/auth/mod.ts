/**
 * Authentication: accounts (PBKDF2 passwords in KV), cookie sessions, short-lived JWT
 * access tokens, the Origin policy and a failed-login limiter, behind
 * {@linkcode createAuth}. The gateway only needs {@linkcode UpgradeAuthenticator} and
 * sees {@linkcode Principal}s, never credentials. See docs/AUTH.md.
 *
 * @module
 */
export type { AuthFailure, AuthResult, Principal, UpgradeAuthenticator } from "./types.ts";
export {
  type AccountFailure,
  type AccountField,
  type AttemptInfo,
  type Auth,
  type AuthOptions,
  type ChangePasswordResult,
  createAuth,
  type CredentialsResult,
  type LoginFailure,
  type LoginLimits,
  type LoginResult,
  type SignupLimits,
  type SignUpResult,
} from "./auth.ts";
export {
  type Account,
  type AccountErrorCode,
  type AccountResult,
  createAccount,
  deleteAccountRecords,
  findAccountById,
  findAccountByUsername,
  MIN_ANY_PASSWORD_LENGTH,
  type NewAccount,
  verifyLogin,
} from "./accounts.ts";
export { isCommonPassword } from "./common_passwords.ts";
export {
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  newPasswordProblem,
  normalizeUsername,
  USERNAME_LENGTH,
  usernameProblem,
} from "./rules.ts";
export { BEARER_PROTOCOL_PREFIX, offeredProtocols } from "./bearer.ts";
export { SESSION_COOKIE } from "./cookie.ts";
export { DEMO_USERNAME, type DemoAccount, demoLoginLine, ensureDemoAccount } from "./demo.ts";
export {
  type Attempt,
  createLimiter,
  type Limiter,
  type LimiterOptions,
  type Refusal,
  type Usage,
} from "./limiter.ts";
export {
  type AttemptGrant,
  type AttemptKey,
  type AttemptOutcome,
  type AttemptRefusal,
  type AttemptStore,
  createMemoryAttempts,
  MAX_ATTEMPT_KEY_CHARS,
} from "./attempts.ts";
export {
  createLoginLimiter,
  type LoginBlock,
  type LoginLimiter,
  type LoginLimiterOptions,
  type LoginPass,
} from "./login_limiter.ts";
export { createOriginPolicy, normalizeOrigin, type OriginPolicy } from "./origin.ts";
export {
  DEFAULT_PBKDF2_ITERATIONS,
  hashPassword,
  MIN_PBKDF2_ITERATIONS,
  verifyPassword,
} from "./password.ts";
export {
  type CredentialsBody,
  type LoginForm,
  MAX_BODY_BYTES,
  readCredentialsJson,
  readForm,
  readLoginForm,
  safeNextPath,
} from "./request.ts";
export { MIN_SECRET_BYTES, type SecretSource } from "./secret.ts";
export {
  DEFAULT_SESSION_TTL_SEC,
  deleteSessionsOf,
  listSessions,
  type SessionInfo,
} from "./sessions.ts";
export {
  CLOCK_TOLERANCE_SEC,
  DEFAULT_TOKEN_TTL_SEC,
  type IssuedToken,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
} from "./tokens.ts";
