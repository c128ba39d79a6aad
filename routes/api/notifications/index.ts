import type { Handlers } from "$fresh/server.ts";
import type { AppState } from "../../../lib/app/context.ts";
import { apiError, apiJson, signedInUser } from "../../../lib/notifications/http.ts";
import { type InboxFilter, MAX_PAGE_LIMIT } from "../../../lib/notifications/schema.ts";

const FILTERS: readonly InboxFilter[] = ["all", "unread", "archived"];

/**
 * `GET /api/notifications?cursor=&limit=&filter=unread|all|archived`: one page of the
 * signed-in user's inbox, newest first, `{ items, counts: { unseen, unread }, next, rev }`
 * (docs/NOTIFICATIONS.md). `next` is the cursor of the following (older) page, stable
 * while new items arrive. Session cookie required (401).
 */
export const handler: Handlers<unknown, AppState> = {
  async GET(req, ctx) {
    const userId = signedInUser(ctx.state);
    if (!userId) return apiError(401, "unauthorized", "Sign in to read your notifications");
    const params = new URL(req.url).searchParams;
    const cursor = params.get("cursor") || undefined;
    if (cursor !== undefined && cursor.length > 64) {
      return apiError(400, "bad_request", "The cursor is not one this server gave", {
        field: "cursor",
        reason: "is at most 64 characters",
      });
    }
    const rawLimit = params.get("limit");
    const limit = rawLimit === null || rawLimit === "" ? undefined : Number(rawLimit);
    if (
      limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= MAX_PAGE_LIMIT)
    ) {
      return apiError(400, "bad_request", `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`, {
        field: "limit",
        reason: `must be an integer from 1 to ${MAX_PAGE_LIMIT}`,
      });
    }
    const filter = (params.get("filter") || "all") as InboxFilter;
    if (!FILTERS.includes(filter)) {
      return apiError(400, "bad_request", "filter must be all, unread or archived", {
        field: "filter",
        reason: "must be all, unread or archived",
      });
    }
    const { notifications } = ctx.state.services;
    const page = await notifications.store.list(userId, { cursor, limit, filter });
    if (page.trimmed) {
      // Expired items were removed: tell the user's other tabs the new counts.
      await notifications.publishChange(userId, { updated: [], counts: page.counts, rev: page.rev })
        .catch(() => {});
    }
    return apiJson({ items: page.items, counts: page.counts, next: page.next, rev: page.rev });
  },
};
