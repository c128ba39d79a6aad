import { effect, type ReadonlySignal, useComputed, useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { CandleChart } from "../components/prices/CandleChart.tsx";
import { PairLabel } from "../components/prices/BoardRow.tsx";
import {
  AgeText,
  ChangeText,
  PriceCell,
  type QuoteSignal,
  QuoteText,
  StatusBadge,
} from "../components/prices/cells.tsx";
import { Live } from "../components/prices/Live.tsx";
import { AlertSignIn } from "../components/alerts/AlertSignIn.tsx";
import AlertForm from "./AlertForm.tsx";
import { useConnection } from "../lib/client/signals.ts";
import {
  formatAge,
  formatPrice,
  formatVolume,
  priceDecimals,
  quoteCurrency,
} from "../lib/prices/format.ts";
import {
  CHART_RANGES,
  type ChartView,
  DEFAULT_VIEW,
  withInterval,
  withRange,
} from "../lib/prices/ui/chart_ranges.ts";
import { useChannelValue, useLocale, useNow, useQuoteStore } from "../lib/prices/ui/hooks.ts";
import { type TradeBurst, tradeBurst } from "../lib/prices/ui/live_candles.ts";
import { parseCandle } from "../lib/prices/ui/validate.ts";
import { type Candle, candleChannel, type Quote } from "../lib/prices/types.ts";

/** Props: the pair and its server-rendered quote. */
export interface PairViewProps {
  symbol: string;
  initial: Quote | null;
  /**
   * Price alerts: the signed-in user (the alert form), or the `?next=` query of the
   * sign-in prompt for visitors. Absent: no alert panel.
   */
  alerts?: { userId: string } | { next: string };
}

/** Trade lines kept. */
const MAX_TRADES = 30;

function ViewControls({ view }: { view: { value: ChartView } }) {
  const v = view.value;
  return (
    <div class="chart-tools">
      <div class="seg" role="group" aria-label="Candle interval">
        {(["1m", "1h"] as const).map((i) => (
          <button
            key={i}
            type="button"
            aria-pressed={v.interval === i}
            data-interval={i}
            onClick={() => view.value = withInterval(view.value, i)}
          >
            {i}
          </button>
        ))}
      </div>
      <div class="seg" role="group" aria-label="Time range">
        {CHART_RANGES.map((r) => (
          <button
            key={r.id}
            type="button"
            aria-pressed={v.range === r.id}
            data-range={r.id}
            onClick={() => view.value = withRange(view.value, r.id)}
          >
            {r.label}
          </button>
        ))}
      </div>
    </div>
  );
}

function Averages(
  { quote, money }: { quote: QuoteSignal; money: (n: number | undefined) => string },
) {
  const q = quote.value;
  const rows = ["1m", "5m", "1h"] as const;
  return (
    <table class="mini-table" aria-label="Average prices">
      <thead>
        <tr>
          <th scope="col">Window</th>
          <th scope="col" class="num">VWAP</th>
          <th scope="col" class="num">TWAP</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((w) => (
          <tr key={w}>
            <th scope="row">{w}</th>
            <td class="num" data-testid={`vwap-${w}`}>{money(q?.vwap?.[w])}</td>
            <td class="num">{money(q?.twap?.[w])}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const STATUS_TEXT = { used: "used", outlier: "outlier", stale: "stale", down: "down" } as const;

function Venues(
  { quote, money, locale }: {
    quote: QuoteSignal;
    money: (n: number | undefined) => string;
    locale: ReadonlySignal<string>;
  },
) {
  const venues = Object.entries(quote.value?.venues ?? {});
  if (venues.length === 0) {
    return <p class="muted panel-empty">No venue detail for this pair.</p>;
  }
  return (
    <table class="mini-table venues" aria-label="Venues" data-testid="venues">
      <thead>
        <tr>
          <th scope="col">Venue</th>
          <th scope="col" class="num">Price</th>
          <th scope="col" class="num">Age</th>
          <th scope="col">Status</th>
        </tr>
      </thead>
      <tbody>
        {venues.map(([name, v]) => (
          <tr key={name} data-venue={name} data-status={v.status}>
            <th scope="row">
              {name}
              {v.usdProxy && (
                <abbr class="proxy" title="Quoted in USDT, standing in for USD">USDT</abbr>
              )}
            </th>
            <td class="num">{v.price === null ? "—" : money(v.price)}</td>
            <td class="num">
              {v.ageMs === null ? "—" : formatAge(v.ageMs, { locale: locale.value })}
            </td>
            <td>
              <span class={`badge status-${v.status}`}>{STATUS_TEXT[v.status]}</span>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Trades(
  { trades, money, locale }: {
    trades: ReadonlySignal<TradeBurst[]>;
    money: (n: number | undefined) => string;
    locale: ReadonlySignal<string>;
  },
) {
  const list = trades.value;
  const time = new Intl.DateTimeFormat(locale.value, {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
  const size = new Intl.NumberFormat(locale.value, { maximumSignificantDigits: 4 });
  if (list.length === 0) {
    return <p class="muted panel-empty">Waiting for trades…</p>;
  }
  return (
    <table class="mini-table trades" aria-label="Recent trades" data-testid="trades">
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col" class="num">Price</th>
          <th scope="col" class="num">Size</th>
          <th scope="col" class="num">Trades</th>
        </tr>
      </thead>
      <tbody>
        {list.map((t) => (
          <tr key={t.ts} class={`side-${t.side}`}>
            <td>{time.format(t.ts)}</td>
            <td class="num">
              <span aria-hidden="true" class="tick">
                {t.side === "up" ? "▲" : t.side === "down" ? "▼" : "·"}
              </span>
              {money(t.price)}
            </td>
            <td class="num">{size.format(t.size)}</td>
            <td class="num">{t.count}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Keeps the tab title on the live price: `$67,012.35 · BTC-USD · Realtime`. */
function useTitle(symbol: string, quote: QuoteSignal, locale: ReadonlySignal<string>): void {
  useEffect(() =>
    effect(() => {
      const q = quote.value;
      if (!q) return;
      const price = formatPrice(q.price, { locale: locale.value, currency: quoteCurrency(symbol) });
      document.title = `${price} · ${symbol} · Realtime`;
    }), [quote]);
}

/**
 * The page of one pair: live price and its basis, a live candlestick chart (1 m / 1 h,
 * time ranges), VWAP / TWAP, each venue's price and state, and the recent trades as the
 * live candle reports them.
 */
export default function PairView({ symbol, initial, alerts }: PairViewProps) {
  const store = useQuoteStore([symbol], { [symbol]: initial ?? undefined });
  const quote = store.quote(symbol)!;
  const locale = useLocale();
  const now = useNow();
  const conn = useConnection();
  const view = useSignal<ChartView>(DEFAULT_VIEW);
  const trades = useSignal<TradeBurst[]>([]);
  const previous = useRef<Candle | undefined>(undefined);
  const candle = useChannelValue(candleChannel(symbol), parseCandle, null, (c) => {
    const burst = tradeBurst(previous.current, c, Date.now());
    if (!previous.current || c.t >= previous.current.t) previous.current = c;
    if (burst) trades.value = [burst, ...trades.value].slice(0, MAX_TRADES);
  });
  useTitle(symbol, quote, locale);
  const currency = quoteCurrency(symbol);
  const money = (n: number | undefined) =>
    n === undefined ? "—" : formatPrice(n, { locale: locale.value, currency });
  const conf = useComputed(() => {
    const q = quote.value;
    if (q?.conf === undefined) return "";
    const digits = priceDecimals(q.price);
    return `± ${formatPrice(q.conf, { locale: locale.value, currency, digits })}`;
  });
  const used = useComputed(() => {
    const q = quote.value;
    if (!q) return "";
    const total = Object.keys(q.venues ?? {}).length;
    const n = q.sourcesUsed ?? q.sources.length;
    return total > 0 ? `median of ${n} of ${total} venues` : `${n} source${n === 1 ? "" : "s"}`;
  });
  const live = !conn || conn.state.value === "connected";
  return (
    <div class="pair-page" data-live={live ? "true" : "false"}>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="/">Markets</a> <span aria-hidden="true">›</span> {symbol}
      </nav>
      <header class="pair-head">
        <h1>
          <PairLabel symbol={symbol} />
        </h1>
        <div class="pair-price">
          <PriceCell quote={quote} locale={locale} currency={currency} class="big" tag="div" />
          <ChangeText quote={quote} locale={locale} />
        </div>
        <p class="pair-basis muted">
          <Live text={conf} class="conf" data-testid="conf" /> <Live text={used} /> · updated{" "}
          <AgeText quote={quote} now={now} locale={locale} /> ago <StatusBadge quote={quote} full />
        </p>
        {!live && (
          <p class="board-paused" role="status">
            Connection lost: the price is paused and may be out of date.
          </p>
        )}
      </header>
      <dl class="pair-stats">
        <div>
          <dt>24h high</dt>
          <dd>
            <QuoteText quote={quote} format={(q) => money(q.high24h)} />
          </dd>
        </div>
        <div>
          <dt>24h low</dt>
          <dd>
            <QuoteText quote={quote} format={(q) => money(q.low24h)} />
          </dd>
        </div>
        <div>
          <dt>24h volume</dt>
          <dd>
            <QuoteText
              quote={quote}
              format={(q) =>
                formatVolume(q.volume24h * q.price, { locale: locale.value, currency })}
            />
          </dd>
        </div>
        <div>
          <dt>Bid / ask</dt>
          <dd>
            <QuoteText quote={quote} format={(q) => `${money(q.bid)} / ${money(q.ask)}`} />
          </dd>
        </div>
      </dl>
      <div class="pair-grid">
        <section class="panel chart-panel" aria-label="Price chart">
          <ViewControls view={view} />
          <CandleChart symbol={symbol} view={view} live={candle.value} locale={locale} />
          <p class="attribution muted">
            Chart by{" "}
            <a href="https://www.tradingview.com/" rel="noopener noreferrer" target="_blank">
              TradingView Lightweight Charts™
            </a>{" "}
            · © TradingView, Inc. · times in your time zone
          </p>
        </section>
        <aside class="pair-side">
          {alerts && "userId" in alerts && (
            <AlertForm
              userId={alerts.userId}
              symbol={symbol}
              prices={initial ? { [symbol]: initial.price } : {}}
              showRules
            />
          )}
          {alerts && "next" in alerts && <AlertSignIn next={alerts.next} subject={symbol} />}
          <section class="panel">
            <h2>Venues</h2>
            <Venues quote={quote} money={money} locale={locale} />
          </section>
          <section class="panel">
            <h2>Averages</h2>
            <Averages quote={quote} money={money} />
          </section>
          <section class="panel">
            <h2>Recent trades</h2>
            <p class="panel-note muted">
              Trades since each update of the live 1-minute candle (the feed publishes candles, not
              single trades).
            </p>
            {candle.status.value === "error"
              ? <p class="muted panel-empty">The live candle feed is not available.</p>
              : <Trades trades={trades} money={money} locale={locale} />}
          </section>
        </aside>
      </div>
    </div>
  );
}
