import type { Handlers } from "$fresh/server.ts";
import type { AppState } from "../../lib/app/context.ts";
import { type AccountField, readCredentialsJson } from "../../lib/auth/mod.ts";

function error(
  status: number,
  code: string,
  message: string,
  field: AccountField,
  headers: Record<string, string> = {},
): Response {
  return Response.json({ error: { code, message, field } }, {
    status,
    headers: { "cache-control": "no-store", ...headers },
  });
}

/**
 * `POST /api/accounts` with `{ "username", "password" }`: creates an account and signs it
 * in (`Set-Cookie`), `201 { id, username }`. Same-origin pages and programs (no `Origin`)
 * only — no CORS. Refusals: `{ error: { code, message, field } }` with 400, 403, 409, 429
 * (docs/AUTH.md).
 */
export const handler: Handlers<unknown, AppState> = {
  async POST(req, ctx) {
    const { auth } = ctx.state.services;
    const refused = auth.checkSameOrigin(req);
    if (refused) {
      await req.body?.cancel();
      return error(refused.status, refused.code, refused.message, null);
    }
    const body = await readCredentialsJson(req);
    if (body.kind === "invalid") return error(400, "bad_request", body.message, null);
    if (body.kind === "none") {
      return error(400, "bad_request", 'Expected a JSON object { "username", "password" }', null);
    }
    const result = await auth.signUp(req, body, { ip: ctx.remoteAddr.hostname });
    if (!result.ok) {
      const headers: Record<string, string> = result.retryAfterSec
        ? { "retry-after": String(result.retryAfterSec) }
        : {};
      return error(result.status, result.code, result.message, result.field, headers);
    }
    const { id, username } = result.account;
    return Response.json({ id, username }, {
      status: 201,
      headers: { "cache-control": "no-store", "set-cookie": result.setCookie },
    });
  },
};
