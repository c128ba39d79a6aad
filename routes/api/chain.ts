import type { Handlers } from "$fresh/server.ts";
import type { AppState } from "../../lib/app/context.ts";

/**
 * `GET /api/chain`: the chain's status — `{ chainId, rpc: "connected" | "reconnecting" |
 * "off", head, finalized, lagMs, reorgs, … }` (lib/wallet/types.ts `ChainStatus`,
 * docs/WALLET.md). Public; any isolate answers from what the listener wrote to KV.
 */
export const handler: Handlers<unknown, AppState> = {
  GET(_req, ctx) {
    return Response.json(ctx.state.services.chain.status(), {
      headers: { "cache-control": "no-store" },
    });
  },
};
