/** The session cookie: its name, attributes and parsing. */

/** Name of the session cookie. */
export const SESSION_COOKIE = "rt_session";

/** Attributes that depend on the request and the session. */
export interface CookieOptions {
  /** Adds `Secure` (see {@linkcode isSecureRequest}). */
  secure: boolean;
  /** `Max-Age` in seconds. */
  maxAgeSec: number;
}

/**
 * True when the client reached us over https: the request URL says so, or a TLS-terminating
 * proxy says so in `X-Forwarded-Proto`. Only the `Secure` attribute depends on this, and a
 * forged header can only make the forger's own cookie stricter.
 */
export function isSecureRequest(req: Request): boolean {
  if (new URL(req.url).protocol === "https:") return true;
  const forwarded = req.headers.get("x-forwarded-proto");
  return forwarded?.split(",")[0].trim().toLowerCase() === "https";
}

/** `Set-Cookie` value that stores the session id `id`. */
export function sessionCookie(id: string, options: CookieOptions): string {
  const parts = [
    `${SESSION_COOKIE}=${id}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Lax",
    `Max-Age=${Math.max(0, Math.floor(options.maxAgeSec))}`,
  ];
  if (options.secure) parts.push("Secure");
  return parts.join("; ");
}

/** `Set-Cookie` value that removes the session cookie. */
export function clearedSessionCookie(options: Pick<CookieOptions, "secure">): string {
  return sessionCookie("", { ...options, maxAgeSec: 0 }) +
    "; Expires=Thu, 01 Jan 1970 00:00:00 GMT";
}

/** The session cookie's value in `req`, or `undefined` when there is none. */
export function sessionIdFromRequest(req: Request): string | undefined {
  const header = req.headers.get("cookie");
  if (!header) return undefined;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq < 0) continue;
    if (pair.slice(0, eq).trim() === SESSION_COOKIE) return pair.slice(eq + 1).trim();
  }
  return undefined;
}
