import type { Signal } from "@preact/signals";
import { useRef } from "preact/hooks";
import { usePriceStream } from "../lib/client/signals.ts";
import { formatPct, formatPrice, formatVolume } from "../lib/prices/format.ts";
import type { Quote } from "../lib/prices/types.ts";

/** Props: the symbols to show and their server-rendered quotes (no empty first paint). */
export interface PriceBoardProps {
  symbols: string[];
  initial: Record<string, Quote>;
}

function PriceRow({ symbol, quote }: { symbol: string; quote: Signal<Quote | undefined> }) {
  const q = quote.value;
  const prev = useRef<number | undefined>(q?.price);
  const direction = q && prev.current !== undefined && q.price !== prev.current
    ? (q.price > prev.current ? "up" : "down")
    : "";
  prev.current = q?.price;
  const change = q?.change24hPct ?? 0;
  return (
    <tr data-symbol={symbol} class={direction ? `tick-${direction}` : ""} key={q?.ts}>
      <th scope="row">{symbol}</th>
      <td class="num price" data-testid="price">{q ? formatPrice(q.price) : "—"}</td>
      <td class={`num ${change >= 0 ? "pos" : "neg"}`}>{q ? formatPct(change) : "—"}</td>
      <td class="num muted">{q ? `${formatPrice(q.bid)} / ${formatPrice(q.ask)}` : "—"}</td>
      <td class="num muted">{q ? formatVolume(q.volume24h) : "—"}</td>
    </tr>
  );
}

/** Live price table: one row per symbol, updated from `prices:{SYMBOL}` channels. */
export default function PriceBoard({ symbols, initial }: PriceBoardProps) {
  const quotes = usePriceStream(symbols, initial);
  return (
    <table class="board" aria-label="Live prices">
      <thead>
        <tr>
          <th scope="col">Pair</th>
          <th scope="col" class="num">Price</th>
          <th scope="col" class="num">24 h</th>
          <th scope="col" class="num">Bid / Ask</th>
          <th scope="col" class="num">Volume 24 h</th>
        </tr>
      </thead>
      <tbody>
        {symbols.map((s) => <PriceRow key={s} symbol={s} quote={quotes[s]} />)}
      </tbody>
    </table>
  );
}
