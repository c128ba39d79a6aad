import type { Handlers } from "$fresh/server.ts";
import type { AppState } from "../../../../lib/app/context.ts";
import { addressParam, refusal } from "../../../../lib/wallet/http.ts";
import { removeWatched } from "../../../../lib/wallet/watch.ts";
import { watchChanges } from "../watch.ts";

/**
 * `DELETE /api/wallet/watch/{address}`: stops watching (`204`; `404` when it was not
 * watched). Session cookie (401), same origin (403), a valid address (400), ≤ 60 changes
 * a minute with POST (429). Nobody watching an address any more deletes its feed.
 */
export const handler: Handlers<unknown, AppState> = {
  async DELETE(req, ctx) {
    const { auth, kv } = ctx.state.services;
    const refused = auth.checkSameOrigin(req);
    if (refused) return refusal(refused);
    const user = ctx.state.user;
    if (!user || user.anonymous) {
      return refusal({ status: 401, code: "unauthorized", message: "Sign in to watch addresses" });
    }
    const attempt = watchChanges.begin(user.userId);
    if (!attempt.ok) {
      return refusal(
        { status: 429, code: "rate_limited", message: "Too many changes; try again shortly" },
        { "retry-after": String(attempt.retryAfterSec) },
      );
    }
    attempt.count();
    const address = addressParam(ctx.params.address);
    if (!address.ok) return refusal(address);
    if (!await removeWatched(kv, user.userId, address.address)) {
      return refusal({
        status: 404,
        code: "not_watched",
        message: "You do not watch this address",
      });
    }
    return new Response(null, { status: 204, headers: { "cache-control": "no-store" } });
  },
};
