import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import Lobby from "../islands/Lobby.tsx";
import PriceBoard from "../islands/PriceBoard.tsx";
import type { AppState } from "../lib/app/context.ts";
import type { Quote } from "../lib/prices/types.ts";

interface Data {
  symbols: string[];
  quotes: Record<string, Quote>;
  /** The signed-in user, or null. */
  user: { id: string; name: string } | null;
}

export const handler: Handlers<Data, AppState> = {
  GET(_req, ctx) {
    const board = ctx.state.services.board();
    const quotes = board?.quotes ?? {};
    const u = ctx.state.user;
    const user = u && !u.anonymous ? { id: u.userId, name: u.name } : null;
    return ctx.render({ symbols: Object.keys(quotes).sort(), quotes, user });
  },
};

export default function Markets({ data }: PageProps<Data>) {
  return (
    <section>
      <Head>
        <title>Markets · Realtime</title>
      </Head>
      <h1>Markets</h1>
      <p class="muted">
        Simulated exchange feed · {data.symbols.length} pairs · updates live over WebSocket
      </p>
      <PriceBoard symbols={data.symbols} initial={data.quotes} />
      {data.user
        ? <Lobby name={data.user.name} userId={data.user.id} />
        : (
          <p class="muted lobby-hint">
            <a href="/login">Sign in</a> or <a href="/signup">create an account</a>{" "}
            to talk in the lobby.
          </p>
        )}
    </section>
  );
}
