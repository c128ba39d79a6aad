/**
 * A bounded cache of verified access tokens, so a client that reconnects (or opens several
 * sockets) with the same token is not verified again: an upgrade's HMAC check and JWT
 * parsing were a quarter of the admission's CPU (docs/PERFORMANCE.md, "Connect rate").
 *
 * Safe because an access token is self-contained: its validity depends only on the key and
 * the clock (lib/auth/tokens.ts; nothing revokes one before it expires). So only successes
 * are kept, keyed by the whole token string, and a hit is used only while the token has not
 * expired (`exp` + the verifier's tolerance); the principal is frozen and shared. Least
 * recently used entries go first once `maxEntries` are held.
 */
import type { AuthResult, Principal } from "./types.ts";

/** Options of {@linkcode cachedVerifier}. */
export interface TokenCacheOptions {
  /** Entries kept at most. Default 4 096. */
  maxEntries?: number;
  /** Seconds past `expiresAt` a token is still accepted (the verifier's tolerance). */
  toleranceSec: number;
  now?: () => number;
}

/** A verifier with a cache in front; `size` for tests and status. */
export interface CachedVerifier {
  (token: string): Promise<AuthResult>;
  readonly size: number;
}

/** Wraps `verify` (e.g. lib/auth/tokens.ts `verifyAccessToken` with its key). */
export function cachedVerifier(
  verify: (token: string) => Promise<AuthResult>,
  options: TokenCacheOptions,
): CachedVerifier {
  const max = options.maxEntries ?? 4_096;
  const now = options.now ?? Date.now;
  const tolerance = options.toleranceSec * 1000;
  const entries = new Map<string, Principal>();
  const fn = async (token: string): Promise<AuthResult> => {
    const hit = entries.get(token);
    if (hit) {
      entries.delete(token);
      if (hit.expiresAt !== null && now() <= hit.expiresAt + tolerance) {
        entries.set(token, hit); // most recently used
        return { ok: true, principal: hit };
      }
    }
    const result = await verify(token);
    if (result.ok && result.principal.expiresAt !== null) {
      const principal = Object.freeze({
        ...result.principal,
        roles: Object.freeze([...result.principal.roles]) as string[],
      });
      if (entries.size >= max) entries.delete(entries.keys().next().value!);
      entries.set(token, principal);
      return { ok: true, principal };
    }
    return result;
  };
  Object.defineProperty(fn, "size", { get: () => entries.size });
  return fn as CachedVerifier;
}
