import type { Handlers } from "$fresh/server.ts";
import type { AppState } from "../../lib/app/context.ts";

/** `GET /api/prices`: the current board as JSON (the same data the page renders first). */
export const handler: Handlers<unknown, AppState> = {
  GET(_req, ctx) {
    const board = ctx.state.services.board();
    return Response.json(board ?? { seq: 0, ts: 0, quotes: {} }, {
      headers: { "cache-control": "no-store" },
    });
  },
};
