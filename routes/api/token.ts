import type { Handlers } from "$fresh/server.ts";
import type { AppState } from "../../lib/app/context.ts";
import { readCredentialsJson } from "../../lib/auth/mod.ts";

function error(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string>,
): Response {
  return Response.json({ error: { code, message } }, {
    status,
    headers: { "cache-control": "no-store", ...headers },
  });
}

/**
 * `POST /api/token`: a short-lived access token, `{ token, expiresAt }`, for the session
 * cookie's user or for `{ "username", "password" }` in a JSON body (see docs/AUTH.md).
 * Allowed cross-origin callers (`ALLOWED_ORIGINS`) get CORS headers, without cookies.
 */
export const handler: Handlers<unknown, AppState> = {
  OPTIONS(req, ctx) {
    const cors = ctx.state.services.auth.origins.corsHeaders(req);
    return new Response(null, { status: cors ? 204 : 403, headers: cors ?? {} });
  },
  async POST(req, ctx) {
    const { auth } = ctx.state.services;
    const cors = auth.origins.corsHeaders(req) ?? {};
    const refused = auth.checkOrigin(req);
    if (refused) {
      await req.body?.cancel();
      return error(refused.status, refused.code, refused.message, cors);
    }
    const body = await readCredentialsJson(req);
    if (body.kind === "invalid") return error(400, "bad_request", body.message, cors);

    let subject;
    if (body.kind === "credentials") {
      const verdict = await auth.verifyCredentials(body.username, body.password, {
        ip: ctx.remoteAddr.hostname,
      });
      if (!verdict.ok) {
        const headers = verdict.retryAfterSec
          ? { ...cors, "retry-after": String(verdict.retryAfterSec) }
          : cors;
        return error(verdict.status, verdict.code, verdict.message, headers);
      }
      subject = verdict.account;
    } else {
      const session = await auth.authenticateSession(req);
      if (!session) {
        const message = 'Sign in first, or send {"username", "password"} as JSON';
        return error(401, "unauthenticated", message, cors);
      }
      if (!session.ok) return error(session.status, session.code, session.message, cors);
      subject = session.principal;
    }
    const { token, expiresAt } = await auth.issueToken(subject);
    return Response.json({ token, expiresAt }, {
      headers: { "cache-control": "no-store", ...cors },
    });
  },
};
