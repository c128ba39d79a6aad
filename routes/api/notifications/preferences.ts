import type { Handlers } from "$fresh/server.ts";
import type { AppState } from "../../../lib/app/context.ts";
import {
  apiError,
  apiJson,
  beginChange,
  readJson,
  signedInUser,
} from "../../../lib/notifications/http.ts";
import {
  firstIssue,
  MAX_REQUEST_BYTES,
  preferencesSchema,
} from "../../../lib/notifications/schema.ts";

/**
 * `GET /api/notifications/preferences` → `{ muted: [category…], minPriority }`;
 * `PUT` with the same shape replaces them (same-origin, signed in). Muted categories and
 * items below `minPriority` are not delivered from then on.
 */
export const handler: Handlers<unknown, AppState> = {
  async GET(_req, ctx) {
    const userId = signedInUser(ctx.state);
    if (!userId) return apiError(401, "unauthorized", "Sign in to read your preferences");
    return apiJson(await ctx.state.services.notifications.store.preferences(userId));
  },
  async PUT(req, ctx) {
    const begun = await beginChange(req, ctx.state, "change your preferences");
    if ("response" in begun) return begun.response;
    const read = await readJson(req, MAX_REQUEST_BYTES);
    if ("response" in read) return read.response;
    const parsed = preferencesSchema.safeParse(read.body);
    if (!parsed.success) {
      const { field, reason } = firstIssue(parsed.error);
      return apiError(400, "bad_request", `Invalid preferences: ${field || "body"} ${reason}`, {
        field: field || "body",
        reason,
      });
    }
    const store = ctx.state.services.notifications.store;
    return apiJson(await store.setPreferences(begun.userId, parsed.data));
  },
};
