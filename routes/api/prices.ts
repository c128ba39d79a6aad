import type { Handlers } from "$fresh/server.ts";
import type { AppState } from "../../lib/app/context.ts";
import { pricesResponse } from "../../lib/prices/http.ts";

/**
 * `GET /api/prices`: `{ seq, ts, quotes }` of the current board, each quote with its
 * confidence, venues and staleness (the same data the page renders first).
 */
export const handler: Handlers<unknown, AppState> = {
  GET(_req, ctx) {
    return pricesResponse(ctx.state.services.board());
  },
};
