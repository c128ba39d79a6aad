/**
 * The Origin policy: which web pages may call us with the user's credentials (WebSocket
 * upgrades, form POSTs, the token endpoint). Browsers always send `Origin` on these
 * requests; programs usually do not, and a request without `Origin` is allowed because it
 * cannot be a cross-site request forged by a browser.
 *
 * Allowed: the request's own origin (the `Origin` host equals the request's `Host`), plus
 * every origin listed in `ALLOWED_ORIGINS`. `Origin: null` (sandboxed frames, `file:`
 * pages, some redirects) is never allowed.
 */
import type { AuthFailure } from "./types.ts";

/**
 * The canonical form of an origin such as `https://app.example.com:8443`, or `null` when
 * `text` is not an http(s) origin (paths, queries, credentials and other schemes are not).
 */
export function normalizeOrigin(text: string): string | null {
  const trimmed = text.trim();
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  if (url.username || url.password) return null;
  // Nothing but an optional "/" may follow the host (URL parsing would drop "/." etc.).
  const afterScheme = trimmed.slice(trimmed.indexOf("//") + 2);
  const slash = afterScheme.search(/[/?#]/);
  if (slash >= 0 && afterScheme.slice(slash) !== "/") return null;
  return url.origin;
}

/**
 * True when `origin` (canonical) is the origin `req` was sent to. The host (with port)
 * must equal the request's; the scheme may be https behind a TLS-terminating proxy that
 * forwards plain http, but an https request never accepts an http page.
 */
export function isSameOrigin(req: Request, origin: string): boolean {
  const target = new URL(req.url);
  const page = new URL(origin);
  if (page.host !== target.host) return false;
  return target.protocol === "http:" || page.protocol === "https:";
}

/** An Origin allow-list. */
export interface OriginPolicy {
  /** The extra origins allowed besides the request's own (canonical form). */
  readonly allowedOrigins: readonly string[];
  /** `null` when `req` may proceed, else a 403 `bad_origin` failure. */
  check(req: Request): AuthFailure | null;
  /**
   * Like {@linkcode check}, but `ALLOWED_ORIGINS` do not count: only the app's own
   * origin (or no `Origin` at all, i.e. not a browser) may proceed. For account changes.
   */
  checkSameOrigin(req: Request): AuthFailure | null;
  /**
   * CORS headers for a cross-origin request from an allowed origin (no credentials:
   * cross-origin callers authenticate with the request body or a bearer token); `null`
   * for same-origin, origin-less or refused requests.
   */
  corsHeaders(req: Request): Record<string, string> | null;
}

function describe(origin: string): string {
  return origin.length > 100 ? `${origin.slice(0, 100)}…` : origin;
}

/** An Origin policy allowing same-origin requests plus `allowedOrigins`. */
export function createOriginPolicy(allowedOrigins: readonly string[] = []): OriginPolicy {
  const allowed = new Set<string>();
  for (const entry of allowedOrigins) {
    const origin = normalizeOrigin(entry);
    if (!origin) throw new Error(`Cannot allow origin "${describe(entry)}": not an http(s) origin`);
    allowed.add(origin);
  }

  function verdict(req: Request): "absent" | "same" | "listed" | "refused" {
    const header = req.headers.get("origin");
    if (header === null) return "absent";
    const origin = normalizeOrigin(header);
    if (!origin) return "refused";
    if (isSameOrigin(req, origin)) return "same";
    return allowed.has(origin) ? "listed" : "refused";
  }

  function refusal(req: Request): AuthFailure {
    const origin = req.headers.get("origin") ?? "";
    return {
      ok: false,
      status: 403,
      code: "bad_origin",
      message: origin === "null"
        ? "Requests from an opaque origin (null) are not allowed"
        : `Requests from origin ${describe(origin)} are not allowed`,
    };
  }

  return {
    allowedOrigins: [...allowed],
    check(req) {
      return verdict(req) === "refused" ? refusal(req) : null;
    },
    checkSameOrigin(req) {
      const v = verdict(req);
      return v === "absent" || v === "same" ? null : refusal(req);
    },
    corsHeaders(req) {
      if (verdict(req) !== "listed") return null;
      return {
        "access-control-allow-origin": normalizeOrigin(req.headers.get("origin")!)!,
        "access-control-allow-methods": "POST, OPTIONS",
        "access-control-allow-headers": "content-type, authorization",
        "access-control-max-age": "600",
        "access-control-expose-headers": "retry-after",
        "vary": "Origin",
      };
    },
  };
}
