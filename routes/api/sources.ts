import type { Handlers } from "$fresh/server.ts";
import type { AppState } from "../../lib/app/context.ts";
import { sourcesResponse } from "../../lib/prices/http.ts";

/** `GET /api/sources`: each venue's health (connected, last message age, counters, symbols). */
export const handler: Handlers<unknown, AppState> = {
  GET(_req, ctx) {
    return sourcesResponse(ctx.state.services.board(), Date.now());
  },
};
