import type { ReadonlySignal } from "@preact/signals";
import { effect } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { baseAsset, formatPrice, formatVolume, quoteCurrency } from "../../lib/prices/format.ts";
import { assetName, quoteVolume } from "../../lib/prices/ui/board.ts";
import type { Candle } from "../../lib/prices/types.ts";
import {
  AgeText,
  ChangeText,
  healthOf,
  PriceCell,
  type QuoteSignal,
  QuoteText,
  Sparkline,
  StatusBadge,
} from "./cells.tsx";

/** Badge hues of the well-known assets (close to their brand colours), else a hash. */
const ASSET_HUES: Readonly<Record<string, number>> = {
  BTC: 1,
  ETH: 3,
  SOL: 7,
  BNB: 6,
  XRP: 5,
  ADA: 0,
  DOGE: 2,
  AVAX: 4,
  DOT: 7,
  LINK: 0,
};

/** A colour index per asset for its letter badge and volume share (stable, 8 hues). */
export function hueOf(asset: string): number {
  if (Object.hasOwn(ASSET_HUES, asset)) return ASSET_HUES[asset];
  let h = 0;
  for (let i = 0; i < asset.length; i++) h = (h * 31 + asset.charCodeAt(i)) >>> 0;
  return h % 8;
}

/** The asset's letter badge, name and ticker. */
export function PairLabel({ symbol, compact = false }: { symbol: string; compact?: boolean }) {
  const base = baseAsset(symbol);
  const quote = quoteCurrency(symbol) ?? "";
  return (
    <span class="pair">
      <span class={`pair-icon hue-${hueOf(base)}`} aria-hidden="true">{base.slice(0, 1)}</span>
      <span class="pair-text">
        <span class="pair-name">{assetName(symbol)}</span>
        {!compact && (
          <span class="pair-sym">
            {base}
            <span class="muted">/{quote}</span>
          </span>
        )}
      </span>
    </span>
  );
}

/** Props of {@linkcode BoardRow}. */
export interface BoardRowProps {
  symbol: string;
  quote: QuoteSignal;
  locale: ReadonlySignal<string>;
  now: ReadonlySignal<number>;
  candles: ReadonlySignal<Candle[] | null>;
  starred: boolean;
  onStar(symbol: string): void;
}

/**
 * One pair of the board. Rendered once; afterwards a tick changes only the text of the
 * cells whose value moved (see `Live`), never the row, so a price stays selectable.
 */
export function BoardRow(props: BoardRowProps) {
  const { symbol, quote, locale, now, candles, starred } = props;
  const currency = quoteCurrency(symbol);
  const row = useRef<HTMLTableRowElement>(null);
  useEffect(() =>
    effect(() => {
      const el = row.current;
      if (el) el.dataset.health = healthOf(quote.value);
    }), [quote]);
  const money = (n: number) => formatPrice(n, { locale: locale.value, currency });
  return (
    <tr ref={row} data-symbol={symbol} data-health={healthOf(quote.peek())}>
      <td class="col-star">
        <button
          type="button"
          class="star"
          aria-pressed={starred}
          aria-label={`Watch ${symbol}`}
          title={starred ? "Remove from watchlist" : "Add to watchlist"}
          onClick={() => props.onStar(symbol)}
        >
          <span aria-hidden="true">{starred ? "★" : "☆"}</span>
        </button>
      </td>
      <th scope="row" class="col-name">
        <a href={`/markets/${symbol}`} data-testid="pair-link">
          <PairLabel symbol={symbol} />
        </a>
      </th>
      <PriceCell quote={quote} locale={locale} currency={currency} />
      <ChangeText quote={quote} locale={locale} tag="td" />
      <td class="num col-range">
        <span class="range-line">
          <span class="range-label">H</span>
          <QuoteText
            quote={quote}
            format={(q) => q.high24h === undefined ? "—" : money(q.high24h)}
          />
        </span>
        <span class="range-line">
          <span class="range-label">L</span>
          <QuoteText quote={quote} format={(q) => q.low24h === undefined ? "—" : money(q.low24h)} />
        </span>
      </td>
      <td class="num col-vol">
        <QuoteText
          quote={quote}
          testid="volume"
          format={(q) => formatVolume(quoteVolume(q), { locale: locale.value, currency })}
        />
      </td>
      <td class="col-spark">
        <Sparkline candles={candles} quote={quote} />
      </td>
      <td class="num col-age">
        <AgeText quote={quote} now={now} locale={locale} />
        <StatusBadge quote={quote} />
      </td>
    </tr>
  );
}
