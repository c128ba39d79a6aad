/**
 * Where a bearer token may travel: the `Authorization: Bearer <token>` header (programs),
 * or a `bearer.<token>` entry of `Sec-WebSocket-Protocol` (browsers cannot set headers
 * on a WebSocket). A server must answer a WebSocket upgrade with one of the offered
 * protocols; {@linkcode offeredProtocols} gives the offered ones without the token.
 */

/** Prefix of the subprotocol entry that carries a token. */
export const BEARER_PROTOCOL_PREFIX = "bearer.";

/** What a request presents: nothing, a token, or a malformed attempt. */
export type BearerPresentation =
  | { kind: "none" }
  | { kind: "token"; token: string; from: "header" | "protocol" }
  | { kind: "malformed"; message: string };

function protocolEntries(req: Request): string[] {
  const header = req.headers.get("sec-websocket-protocol");
  if (!header) return [];
  return header.split(",").map((p) => p.trim()).filter((p) => p !== "");
}

/** The bearer token of `req`: the `Authorization` header first, then the subprotocols. */
export function bearerFromRequest(req: Request): BearerPresentation {
  const authorization = req.headers.get("authorization");
  if (authorization !== null) {
    const m = authorization.match(/^Bearer[ \t]+([^\s,]+)[ \t]*$/i);
    if (!m) {
      return {
        kind: "malformed",
        message: "Expected an Authorization header of the form Bearer <token>",
      };
    }
    return { kind: "token", token: m[1], from: "header" };
  }
  const tokens = protocolEntries(req)
    .filter((p) => p.toLowerCase().startsWith(BEARER_PROTOCOL_PREFIX))
    .map((p) => p.slice(BEARER_PROTOCOL_PREFIX.length));
  if (tokens.length > 1) {
    return { kind: "malformed", message: "Expected at most one bearer.<token> subprotocol" };
  }
  if (tokens.length === 1) {
    if (tokens[0] === "") return { kind: "malformed", message: "The bearer subprotocol is empty" };
    return { kind: "token", token: tokens[0], from: "protocol" };
  }
  return { kind: "none" };
}

/** The subprotocols `req` offers, without `bearer.<token>` entries (never echo those). */
export function offeredProtocols(req: Request): string[] {
  return protocolEntries(req).filter((p) => !p.toLowerCase().startsWith(BEARER_PROTOCOL_PREFIX));
}
