import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import Lobby from "../islands/Lobby.tsx";
import MarketOverview from "../islands/MarketOverview.tsx";
import PriceBoard from "../islands/PriceBoard.tsx";
import type { AppState } from "../lib/app/context.ts";
import { summarizeQuotes } from "../lib/prices/ui/overview.ts";
import type { MarketOverview as Overview, Quote } from "../lib/prices/types.ts";

interface Data {
  symbols: string[];
  quotes: Record<string, Quote>;
  overview: Overview;
  /** The signed-in user, or null. */
  user: { id: string; name: string } | null;
}

export const handler: Handlers<Data, AppState> = {
  GET(_req, ctx) {
    const { services } = ctx.state;
    const board = services.board();
    const quotes = board?.quotes ?? {};
    const u = ctx.state.user;
    const user = u && !u.anonymous ? { id: u.userId, name: u.name } : null;
    // The price engine's overview (`market:overview`'s snapshot); summarised here from the
    // quotes when the board has none (an older board, or before the engine's first).
    const overview = board?.overview ??
      summarizeQuotes(Object.values(quotes), board?.ts ?? Date.now());
    return ctx.render({ symbols: Object.keys(quotes).sort(), quotes, overview, user });
  },
};

export default function Markets({ data }: PageProps<Data>) {
  const venues = new Set(
    Object.values(data.quotes).flatMap((q) => Object.keys(q.venues ?? {})),
  ).size;
  return (
    <section class="markets">
      <Head>
        <title>Markets · Realtime</title>
      </Head>
      <div class="page-head">
        <h1>Markets</h1>
        <p class="muted">
          {data.symbols.length} pairs · {venues > 0 ? `median of ${venues} venues` : "live prices"}
          {" "}
          · updates over WebSocket
        </p>
      </div>
      <MarketOverview initial={data.overview} />
      <PriceBoard symbols={data.symbols} initial={data.quotes} signedIn={data.user !== null} />
      {data.user
        ? <Lobby name={data.user.name} userId={data.user.id} />
        : (
          <p class="muted lobby-hint">
            <a href="/login">Sign in</a> or <a href="/signup">create an account</a>{" "}
            to keep your watchlist in your account and talk in the lobby.
          </p>
        )}
    </section>
  );
}
