import type { Handlers } from "$fresh/server.ts";
import type { AppState } from "../../../lib/app/context.ts";
import { handleChange } from "../../../lib/notifications/http.ts";

/**
 * `POST /api/notifications/read { ids }` marks items read (and seen); `{ all: true, before: <id> }` marks read every item up to and including `before` (the newest the user has in view) — items that arrived meanwhile stay unread.
 * Same-origin, signed in; answers `{ updated, unknown, counts, rev }` (unknown ids are
 * ignored and listed). See docs/NOTIFICATIONS.md.
 */
export const handler: Handlers<unknown, AppState> = {
  POST: (req, ctx) => handleChange(req, ctx.state, "read"),
};
