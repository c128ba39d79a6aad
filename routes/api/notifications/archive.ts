import type { Handlers } from "$fresh/server.ts";
import type { AppState } from "../../../lib/app/context.ts";
import { handleChange } from "../../../lib/notifications/http.ts";

/**
 * `POST /api/notifications/archive { ids }`: archives items (they leave the inbox and the counts).
 * Same-origin, signed in; answers `{ updated, unknown, counts, rev }` (unknown ids are
 * ignored and listed). See docs/NOTIFICATIONS.md.
 */
export const handler: Handlers<unknown, AppState> = {
  POST: (req, ctx) => handleChange(req, ctx.state, "archive"),
};
