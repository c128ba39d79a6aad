import type { Handlers } from "$fresh/server.ts";
import type { AppState } from "../../lib/app/context.ts";
import { isWebSocketUpgrade, upgradeToHub } from "../../lib/gateway/mod.ts";

/** `GET /api/ws`: upgrades to the gateway's WebSocket (see docs/PROTOCOL.md). */
export const handler: Handlers<unknown, AppState> = {
  GET(req, ctx) {
    if (!isWebSocketUpgrade(req)) {
      return new Response(
        "Expected a WebSocket upgrade: connect to /api/ws with a WebSocket client (see docs/PROTOCOL.md)\n",
        { status: 400, headers: { "content-type": "text/plain; charset=utf-8" } },
      );
    }
    return upgradeToHub(req, ctx.state.services.hub);
  },
};
