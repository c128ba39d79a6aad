import type { Handlers } from "$fresh/server.ts";
import type { AppState } from "../../../lib/app/context.ts";
import { handleChange } from "../../../lib/notifications/http.ts";

/**
 * `POST /api/notifications/seen { ids }`: marks those items seen (what the open panel shows).
 * Same-origin, signed in; answers `{ updated, unknown, counts, rev }` (unknown ids are
 * ignored and listed). See docs/NOTIFICATIONS.md.
 */
export const handler: Handlers<unknown, AppState> = {
  POST: (req, ctx) => handleChange(req, ctx.state, "seen"),
};
