import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { AlertSignIn } from "../components/alerts/AlertSignIn.tsx";
import { nextQuery } from "../components/UserMenu.tsx";
import AlertForm from "../islands/AlertForm.tsx";
import AlertRules from "../islands/AlertRules.tsx";
import NotificationSettings from "../islands/NotificationSettings.tsx";
import type { AppState } from "../lib/app/context.ts";

type Data =
  | { signedIn: false }
  | { signedIn: true; userId: string; symbols: string[]; prices: Record<string, number> };

/**
 * `/alerts`: the signed-in user's alert rules (list, pause / resume, edit, delete, when
 * each last fired), a form for a new one and what the inbox delivers (muted categories,
 * lowest priority); signed-out visitors get a sign-in prompt.
 */
export const handler: Handlers<Data, AppState> = {
  GET(_req, ctx) {
    const user = ctx.state.user;
    const headers = { "cache-control": "no-store" };
    if (!user || user.anonymous) return ctx.render({ signedIn: false }, { headers });
    const quotes = ctx.state.services.board()?.quotes ?? {};
    const symbols = Object.keys(quotes).sort();
    const prices = Object.fromEntries(symbols.map((s) => [s, quotes[s].price]));
    return ctx.render({ signedIn: true, userId: user.userId, symbols, prices }, { headers });
  },
};

export default function Alerts({ data }: PageProps<Data>) {
  return (
    <section class="alerts-page">
      <Head>
        <title>Alerts · Realtime</title>
      </Head>
      <div class="page-head">
        <h1>Alerts</h1>
        <p class="muted">Price rules that notify you when they fire.</p>
      </div>
      {data.signedIn
        ? (
          <div class="alerts-grid">
            <AlertRules userId={data.userId} />
            <div class="alerts-side">
              {data.symbols.length > 0 && (
                <AlertForm
                  userId={data.userId}
                  symbol={data.symbols.includes("BTC-USD") ? "BTC-USD" : data.symbols[0]}
                  symbols={data.symbols}
                  prices={data.prices}
                />
              )}
              <NotificationSettings />
            </div>
          </div>
        )
        : <AlertSignIn next={nextQuery("/alerts")} />}
    </section>
  );
}
