/**
 * Access tokens: short-lived HS256 JWTs (jose) that carry who the user is, so the gateway
 * can accept a connection without a KV read. Claims: `sub`, `name`, `roles`,
 * `aud: "realtime"`, `iss: "realtime"`, `iat`, `exp`.
 *
 * A token is a credential: it is never logged and never part of an error message.
 */
import { errors, jwtVerify, SignJWT } from "jose";
import type { AuthResult } from "./types.ts";

/** `aud` and `iss` of every token. */
export const TOKEN_AUDIENCE = "realtime";
/** `iss` of every token. */
export const TOKEN_ISSUER = "realtime";
/** Fifteen minutes. */
export const DEFAULT_TOKEN_TTL_SEC = 15 * 60;
/** How far `exp` may lag our clock (clock skew between machines). */
export const CLOCK_TOLERANCE_SEC = 5;
/** Longer strings are refused before parsing. */
export const MAX_TOKEN_LENGTH = 8192;

/** Who a token is for. */
export interface TokenSubject {
  userId: string;
  name: string;
  roles: readonly string[];
}

/** A signed token and when it expires (ms since the epoch). */
export interface IssuedToken {
  token: string;
  expiresAt: number;
}

/** Lifetime and clock of tokens. */
export interface TokenOptions {
  /** Default {@linkcode DEFAULT_TOKEN_TTL_SEC}. */
  ttlSec?: number;
  /** Clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** Signs an access token for `subject` with `key`. */
export async function issueAccessToken(
  key: Uint8Array<ArrayBuffer>,
  subject: TokenSubject,
  options: TokenOptions = {},
): Promise<IssuedToken> {
  const iat = Math.floor((options.now ?? Date.now)() / 1000);
  const exp = iat + (options.ttlSec ?? DEFAULT_TOKEN_TTL_SEC);
  const token = await new SignJWT({ name: subject.name, roles: [...subject.roles] })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(subject.userId)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuer(TOKEN_ISSUER)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(key);
  return { token, expiresAt: exp * 1000 };
}

function invalid(message = "The access token is not valid"): AuthResult {
  return { ok: false, status: 401, code: "invalid_token", message };
}

/**
 * Checks signature (HS256 only), issuer, audience and expiry (±5 s) of `token`.
 * Failures: `expired_token`, `wrong_audience`, or `invalid_token` for everything else
 * (bad signature, malformed, `alg: none`, wrong issuer, missing claims).
 */
export async function verifyAccessToken(
  key: Uint8Array<ArrayBuffer>,
  token: string,
  options: Pick<TokenOptions, "now"> = {},
): Promise<AuthResult> {
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return invalid();
  let payload;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: ["HS256"],
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      clockTolerance: CLOCK_TOLERANCE_SEC,
      currentDate: new Date((options.now ?? Date.now)()),
      requiredClaims: ["sub", "iat", "exp"],
    }));
  } catch (err) {
    // jose's errors carry the claims; only their class is looked at, nothing is kept.
    if (err instanceof errors.JWTExpired) {
      return {
        ok: false,
        status: 401,
        code: "expired_token",
        message: "The access token has expired",
      };
    }
    if (err instanceof errors.JWTClaimValidationFailed && err.claim === "aud") {
      return {
        ok: false,
        status: 401,
        code: "wrong_audience",
        message: `The access token is not meant for ${TOKEN_AUDIENCE}`,
      };
    }
    return invalid();
  }
  const { sub, name, roles, exp } = payload;
  if (
    typeof sub !== "string" || sub === "" || typeof name !== "string" ||
    !Array.isArray(roles) || !roles.every((r) => typeof r === "string") ||
    typeof exp !== "number"
  ) {
    return invalid("The access token lacks the user's claims");
  }
  return {
    ok: true,
    principal: {
      userId: sub,
      name,
      anonymous: false,
      via: "token",
      expiresAt: exp * 1000,
      roles: [...roles],
    },
  };
}
