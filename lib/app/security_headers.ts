/**
 * Security headers for every response, applied by `routes/_middleware.ts`:
 *
 * - HTML pages get a Content-Security-Policy that allows only this origin's scripts,
 *   styles, images and connections (WebSockets included), the page's one inline script by
 *   its per-response nonce (lib/fresh/render.ts), no plugins, no `<base>`, forms posting
 *   to this origin only, and no framing; plus `Permissions-Policy` and
 *   `Cross-Origin-Opener-Policy`.
 * - Every other response (JSON, static files, bundles, redirects) gets a policy that
 *   allows nothing, so a file opened directly (an SVG, say) cannot run anything either.
 * - Every response: `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`,
 *   `Referrer-Policy: strict-origin-when-cross-origin`, and `Strict-Transport-Security`
 *   when the request came over https (see `isSecureRequest`).
 *
 * A header a route set itself is kept. WebSocket upgrades (101) are returned untouched.
 *
 * @module
 */
// Not part of Fresh 1.x's public API (lib/fresh/README.md): the header in which lib/fresh
// hands the inline script's nonce to middlewares.
import { NONCE_HEADER } from "$fresh/render.ts";
import { isSecureRequest } from "../auth/cookie.ts";

/** The page policy's directives, `{nonce}` standing for the response's script nonce. */
const PAGE_POLICY: readonly string[] = [
  "default-src 'none'",
  "script-src 'self'{nonce}",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  // CSP3: 'self' also matches ws: and wss: of this host (verified in Chromium by
  // tests/security_browser_test.ts).
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
];

/** The policy of everything that is not a page. */
const NOTHING_POLICY =
  "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** Browser features no page of the app uses. */
export const PERMISSIONS_POLICY = [
  "accelerometer",
  "camera",
  "display-capture",
  "geolocation",
  "gyroscope",
  "magnetometer",
  "microphone",
  "midi",
  "payment",
  "usb",
].map((feature) => `${feature}=()`).join(", ");

/** `Strict-Transport-Security` sent to https requests: one year, this host only. */
export const HSTS = "max-age=31536000";

/** The Content-Security-Policy of an HTML page whose inline script carries `nonce`. */
export function pagePolicy(nonce: string | null): string {
  const source = nonce && /^[A-Za-z0-9+/_=-]{16,128}$/.test(nonce) ? ` 'nonce-${nonce}'` : "";
  return PAGE_POLICY.map((d) => d.replace("{nonce}", source)).join("; ");
}

/** The headers `res` gets, by kind of response (the nonce header is not among them). */
export function securityHeadersFor(req: Request, res: Response): Headers {
  const headers = new Headers({
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
  });
  const html = /^text\/html\b/i.test(res.headers.get("content-type") ?? "");
  if (html) {
    headers.set("content-security-policy", pagePolicy(res.headers.get(NONCE_HEADER)));
    headers.set("permissions-policy", PERMISSIONS_POLICY);
    headers.set("cross-origin-opener-policy", "same-origin");
  } else {
    headers.set("content-security-policy", NOTHING_POLICY);
  }
  if (isSecureRequest(req)) headers.set("strict-transport-security", HSTS);
  return headers;
}

/**
 * `res` with the security headers added (those it already has are kept) and the
 * internal nonce header removed. A response with immutable headers (`Response.redirect`)
 * is copied; a WebSocket upgrade (status 101) is returned as is.
 */
export function withSecurityHeaders(req: Request, res: Response): Response {
  if (res.status === 101) return res;
  const add = securityHeadersFor(req, res);
  try {
    apply(res.headers, add);
    return res;
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    const copy = new Response(res.body, {
      status: res.status,
      statusText: res.statusText,
      headers: new Headers(res.headers),
    });
    apply(copy.headers, add);
    return copy;
  }
}

function apply(target: Headers, add: Headers): void {
  target.delete(NONCE_HEADER);
  for (const [name, value] of add) if (!target.has(name)) target.set(name, value);
}

/**
 * The middleware: runs the rest of the chain, then adds the security headers to what
 * it answered. Put it first, so it sees every response of the app.
 */
export function securityHeaders(): (
  req: Request,
  ctx: { next(): Promise<Response> },
) => Promise<Response> {
  return async function securityHeadersMiddleware(req, ctx) {
    return withSecurityHeaders(req, await ctx.next());
  };
}
