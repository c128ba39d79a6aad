import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { nextQuery } from "../components/UserMenu.tsx";
import { WalletSignIn } from "../components/wallet/WalletSignIn.tsx";
import ChainStatusBar from "../islands/ChainStatusBar.tsx";
import WalletApp, { type WalletAppProps } from "../islands/WalletApp.tsx";
import type { AppState } from "../lib/app/context.ts";
import { parseAddress } from "../lib/wallet/address.ts";
import { walletView } from "../lib/wallet/http.ts";
import type { ChainStatus } from "../lib/wallet/types.ts";
import { WALLET_PAGE_SIZE } from "../lib/wallet/ui/api.ts";
import { boardPrice } from "../lib/wallet/view.ts";
import { listWatched, MAX_WATCHED } from "../lib/wallet/watch.ts";

type Data =
  & { status: ChainStatus }
  & ({ signedIn: false; next: string } | { signedIn: true; app: WalletAppProps });

const TX = /^0x[0-9a-fA-F]{64}$/;

/**
 * `/wallet[?address=0x…][&tx=0x…]`: the chain's status for everyone; for a signed-in user
 * the watched addresses and — for the one in `?address=` (else the first) — balances and
 * activity, rendered here and kept live in the browser. `?tx=` brings that transaction's
 * row into view (the link of a wallet notification). Signed-out visitors get a sign-in
 * prompt.
 */
export const handler: Handlers<Data, AppState> = {
  async GET(req, ctx) {
    const { kv, chain } = ctx.state.services;
    const status = chain.status();
    const headers = { "cache-control": "no-store" };
    const user = ctx.state.user;
    const url = new URL(req.url);
    if (!user || user.anonymous) {
      return ctx.render({ status, signedIn: false, next: nextQuery(url.pathname + url.search) }, {
        headers,
      });
    }
    const watched = await listWatched(kv, user.userId);
    const wanted = parseAddress(url.searchParams.get("address") ?? "");
    const selected = wanted.ok && watched.some((w) => w.address === wanted.address)
      ? wanted.address
      : watched[0]?.address ?? null;
    const txParam = url.searchParams.get("tx") ?? "";
    const initial = selected && chain.enabled
      ? await walletView(
        kv,
        chain,
        selected,
        { limit: WALLET_PAGE_SIZE },
        boardPrice(ctx.state.services.board()?.quotes),
      )
      : null;
    const app: WalletAppProps = {
      watched,
      max: MAX_WATCHED,
      selected,
      initial,
      tx: TX.test(txParam) ? txParam.toLowerCase() : null,
      chainOn: chain.enabled,
    };
    return ctx.render({ status, signedIn: true, app }, { headers });
  },
};

export default function Wallet({ data }: PageProps<Data>) {
  return (
    <section class="wallet-page">
      <Head>
        <title>Wallet · Realtime</title>
      </Head>
      <div class="page-head">
        <h1>Wallet</h1>
        <p class="muted">
          Transactions of the addresses you watch, from the mempool to finality.
        </p>
      </div>
      <ChainStatusBar initial={data.status} />
      {data.signedIn ? <WalletApp {...data.app} /> : <WalletSignIn next={data.next} />}
    </section>
  );
}
