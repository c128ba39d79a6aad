import type { Handlers } from "$fresh/server.ts";
import type { AppState } from "../../../lib/app/context.ts";
import { addressParam, parsePage, refusal, walletView } from "../../../lib/wallet/http.ts";
import { boardPrice } from "../../../lib/wallet/view.ts";
import { isWatching } from "../../../lib/wallet/watch.ts";

/**
 * `GET /api/wallet/{address}?cursor=&limit=`: the address's balances (with USD) and its
 * activity, newest first, a page at a time (`next` → `?cursor=`), as `WalletView`
 * (lib/wallet/types.ts, docs/WALLET.md). Only for a signed-in user who watches the
 * address (401, 403); a malformed address is 400 naming the problem; 503 with no chain.
 */
export const handler: Handlers<unknown, AppState> = {
  async GET(req, ctx) {
    const { kv, chain } = ctx.state.services;
    const user = ctx.state.user;
    if (!user || user.anonymous) {
      return refusal({
        status: 401,
        code: "unauthorized",
        message: "Sign in to see wallet activity",
      });
    }
    const address = addressParam(ctx.params.address);
    if (!address.ok) return refusal(address);
    const page = parsePage(new URL(req.url).searchParams);
    if (!page.ok) return refusal({ status: 400, code: "bad_request", message: page.message });
    if (!chain.enabled) {
      return refusal({
        status: 503,
        code: "chain_off",
        message: "No chain is configured (CHAIN_RPC_URL, CHAIN)",
      });
    }
    if (!await isWatching(kv, user.userId, address.address)) {
      return refusal({
        status: 403,
        code: "not_watched",
        message: "Watch this address first (POST /api/wallet/watch)",
      });
    }
    const view = await walletView(
      kv,
      chain,
      address.address,
      page,
      boardPrice(ctx.state.services.board()?.quotes),
    );
    return Response.json(view, { headers: { "cache-control": "no-store" } });
  },
};
