import type { Handlers } from "$fresh/server.ts";
import type { AppState } from "../../lib/app/context.ts";
import { upgradeToHub } from "../../lib/gateway/mod.ts";

/**
 * `GET /api/ws`: admits (rate limits, caps, subprotocol, Origin, credentials) and
 * upgrades to the gateway's WebSocket. See docs/PROTOCOL.md.
 */
export const handler: Handlers<unknown, AppState> = {
  async GET(req, ctx) {
    const { hub, admit } = ctx.state.services;
    const admitted = await admit(req, ctx.remoteAddr.hostname);
    if (!admitted.ok) return admitted.response;
    return upgradeToHub(req, hub, admitted);
  },
};
