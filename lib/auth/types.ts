/**
 * The contract between authentication and the gateway. The gateway only ever sees a
 * {@linkcode Principal}; it never sees passwords, cookies or tokens.
 */

/** Who is on the other end of a connection or request. */
export interface Principal {
  /** Stable user id; `anon:<random>` for anonymous connections. */
  userId: string;
  /** Display name (the account's username; `anonymous` for anonymous). */
  name: string;
  anonymous: boolean;
  /** How the credential was presented. */
  via: "cookie" | "token" | "anonymous";
  /** When the credential expires (ms since the epoch); `null` when it does not. */
  expiresAt: number | null;
  /** Roles, e.g. `["user"]` or `["user", "admin"]`; empty for anonymous. */
  roles: string[];
}

/** Why a request was refused, ready to become an HTTP response. */
export interface AuthFailure {
  ok: false;
  /** 401 for missing / invalid / expired credentials, 403 for a refused Origin. */
  status: 401 | 403;
  /** Machine-readable: `invalid_token`, `expired_token`, `wrong_audience`, `bad_origin`, … */
  code: string;
  /** One human-readable sentence, never containing the credential. */
  message: string;
}

/** The outcome of an authentication. */
export type AuthResult = { ok: true; principal: Principal } | AuthFailure;

/** What the gateway needs from authentication. */
export interface UpgradeAuthenticator {
  /**
   * Authenticates a WebSocket upgrade: checks `Origin` against the allow-list, then a
   * bearer token (`Authorization: Bearer …` header, or a `bearer.<token>` entry in
   * `Sec-WebSocket-Protocol` for browsers), then the session cookie; with none of them
   * the principal is anonymous. A presented credential that fails is a failure — never
   * a silent downgrade to anonymous.
   */
  authenticateUpgrade(req: Request): Promise<AuthResult>;
  /** Verifies an access token presented in-band (`refresh`), for the same user. */
  verifyAccessToken(token: string): Promise<AuthResult>;
}
