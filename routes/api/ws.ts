import type { Handlers } from "$fresh/server.ts";
import type { AppState } from "../../lib/app/context.ts";
import { acceptUpgrade } from "../../lib/gateway/mod.ts";

/**
 * `GET /api/ws`: admits (rate limits, caps, subprotocol, Origin, credentials) and
 * upgrades to the gateway's WebSocket. See docs/PROTOCOL.md.
 */
export const handler: Handlers<unknown, AppState> = {
  GET(req, ctx) {
    const { hub, admit } = ctx.state.services;
    return acceptUpgrade(req, ctx.remoteAddr.hostname, hub, admit);
  },
};
