import type { Handlers, PageProps } from "$fresh/server.ts";
import PriceBoard from "../islands/PriceBoard.tsx";
import type { AppState } from "../lib/app/context.ts";
import type { Quote } from "../lib/prices/types.ts";

interface Data {
  symbols: string[];
  quotes: Record<string, Quote>;
}

export const handler: Handlers<Data, AppState> = {
  GET(_req, ctx) {
    const board = ctx.state.services.board();
    const quotes = board?.quotes ?? {};
    return ctx.render({ symbols: Object.keys(quotes).sort(), quotes });
  },
};

export default function Markets({ data }: PageProps<Data>) {
  return (
    <section>
      <h1>Markets</h1>
      <p class="muted">
        Simulated exchange feed · {data.symbols.length} pairs · updates live over WebSocket
      </p>
      <PriceBoard symbols={data.symbols} initial={data.quotes} />
    </section>
  );
}
