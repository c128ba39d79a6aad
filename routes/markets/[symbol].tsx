import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { nextQuery } from "../../components/UserMenu.tsx";
import PairView from "../../islands/PairView.tsx";
import type { AppState } from "../../lib/app/context.ts";
import { formatPrice, quoteCurrency } from "../../lib/prices/format.ts";
import type { Quote } from "../../lib/prices/types.ts";
import { SYMBOL_PATTERN } from "../../lib/prices/ui/validate.ts";

interface Data {
  symbol: string;
  quote: Quote;
  /** The signed-in user's id, or null. */
  userId: string | null;
}

/** `/markets/{SYMBOL}`: the page of one pair; 404 for a pair the market does not follow. */
export const handler: Handlers<Data, AppState> = {
  GET(_req, ctx) {
    const symbol = ctx.params.symbol;
    const quote = SYMBOL_PATTERN.test(symbol)
      ? ctx.state.services.board()?.quotes[symbol]
      : undefined;
    if (!quote) return ctx.renderNotFound();
    const user = ctx.state.user;
    return ctx.render({ symbol, quote, userId: user && !user.anonymous ? user.userId : null });
  },
};

export default function Market({ data }: PageProps<Data>) {
  const { symbol, quote, userId } = data;
  const price = formatPrice(quote.price, { currency: quoteCurrency(symbol) });
  return (
    <section class="market">
      <Head>
        <title>{`${price} · ${symbol} · Realtime`}</title>
      </Head>
      <PairView
        symbol={symbol}
        initial={quote}
        alerts={userId ? { userId } : { next: nextQuery(`/markets/${symbol}`) }}
      />
    </section>
  );
}
