import type { Handlers } from "$fresh/server.ts";
import type { AppState } from "../../../lib/app/context.ts";
import { gatewayStatus } from "../../../lib/gateway/status.ts";

/** `GET /api/websocket/status`: this isolate's gateway figures as JSON. */
export const handler: Handlers<unknown, AppState> = {
  GET(_req, ctx) {
    const { hub, isolateId, startedAt } = ctx.state.services;
    return Response.json(gatewayStatus(hub, { isolateId, startedAt, now: Date.now() }), {
      headers: { "cache-control": "no-store" },
    });
  },
};
