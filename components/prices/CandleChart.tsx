import { effect, type ReadonlySignal, useSignal } from "@preact/signals";
import {
  type CandlestickData,
  CandlestickSeries,
  ColorType,
  createChart,
  type HistogramData,
  HistogramSeries,
  type IChartApi,
  type ISeriesApi,
  TickMarkType,
  type Time,
  type UTCTimestamp,
} from "lightweight-charts";
import { useEffect, useRef } from "preact/hooks";
import { formatPrice } from "../../lib/prices/format.ts";
import { fetchCandles } from "../../lib/prices/ui/candles_api.ts";
import { type ChartView, INTERVAL_MS, rangeStart } from "../../lib/prices/ui/chart_ranges.ts";
import { bucketOf, LiveCandles } from "../../lib/prices/ui/live_candles.ts";
import type { Candle } from "../../lib/prices/types.ts";

/** Fewer bars than fit (about 12 px each, at most this many) are drawn at that width. */
const MIN_VISIBLE_BARS = 60;

/** Live minutes kept while the history of a new view loads (applied after it). */
const MAX_BUFFERED = 120;

/** What the chart area shows. */
type ChartState = "loading" | "ready" | "empty" | "unavailable";

interface Colors {
  up: string;
  down: string;
  upFaint: string;
  downFaint: string;
  text: string;
  line: string;
  font: string;
}

function cssColors(): Colors {
  const style = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    up: v("--pos", "#2fbf71"),
    down: v("--neg", "#ef5350"),
    upFaint: v("--pos-faint", "rgba(47,191,113,0.35)"),
    downFaint: v("--neg-faint", "rgba(239,83,80,0.35)"),
    text: v("--muted", "#8b93a7"),
    line: v("--line", "#262b36"),
    font: getComputedStyle(document.body).fontFamily,
  };
}

function toTime(t: number): UTCTimestamp {
  return Math.floor(t / 1000) as UTCTimestamp;
}

function dateOf(time: Time): Date {
  return new Date(typeof time === "number" ? time * 1000 : String(time));
}

interface Drawn {
  chart: IChartApi;
  candles: ISeriesApi<"Candlestick">;
  volume: ISeriesApi<"Histogram">;
  colors: Colors;
}

/** Props of {@linkcode CandleChart}. */
export interface CandleChartProps {
  symbol: string;
  view: ReadonlySignal<ChartView>;
  /** The live 1-minute candle (`candles:{SYMBOL}`), null until the first. */
  live: ReadonlySignal<Candle | null>;
  locale: ReadonlySignal<string>;
}

/**
 * A live candlestick chart (lightweight-charts, canvas): history from
 * `GET /api/candles`, then the live minute merged in. An update older than the chart's
 * last bar merges or is dropped and counted, never thrown (lib/prices/ui/live_candles.ts).
 * Time is shown in the browser's zone and locale.
 *
 * Under the page's CSP: the library's own attribution logo injects a `<style>` element,
 * which `style-src 'self'` blocks, so it is off and the attribution is a link below the
 * chart instead (as the library's licence allows).
 */
export function CandleChart({ symbol, view, live, locale }: CandleChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const drawn = useRef<Drawn | null>(null);
  const series = useRef<LiveCandles>(new LiveCandles(60_000));
  const buffered = useRef<Candle[] | null>(null);
  const state = useSignal<ChartState>("loading");

  const mark = () => {
    const el = box.current;
    const s = series.current;
    if (!el) return;
    const last = s.bars.at(-1);
    el.dataset.bars = String(s.bars.length);
    el.dataset.lastTime = last ? String(last.t) : "";
    el.dataset.lastClose = last ? String(last.c) : "";
    el.dataset.dropped = String(s.dropped);
  };

  const volumeBar = (c: Candle, colors: Colors): HistogramData<Time> => ({
    time: toTime(c.t),
    value: c.v,
    color: c.c >= c.o ? colors.upFaint : colors.downFaint,
  });
  const candleBar = (c: Candle): CandlestickData<Time> => ({
    time: toTime(c.t),
    open: c.o,
    high: c.h,
    low: c.l,
    close: c.c,
  });

  const redraw = () => {
    const d = drawn.current;
    if (!d) return;
    const bars = series.current.bars;
    d.candles.setData(bars.map(candleBar));
    d.volume.setData(bars.map((c) => volumeBar(c, d.colors)));
    // A young pair has few bars: show them at a readable width, room for what comes,
    // instead of stretching two candles over the whole chart.
    const width = box.current?.clientWidth ?? 600;
    const room = Math.max(20, Math.min(MIN_VISIBLE_BARS, Math.round(width / 12)));
    if (bars.length >= room) d.chart.timeScale().fitContent();
    else {d.chart.timeScale().setVisibleLogicalRange({
        from: bars.length - room,
        to: bars.length + 3,
      });}
    mark();
  };

  const applyLive = (c: Candle) => {
    const d = drawn.current;
    const change = series.current.apply(c);
    if (change.op === "drop") {
      mark();
      return;
    }
    if (state.peek() !== "ready") state.value = "ready";
    if (!d) return;
    const historical = change.op === "update" && change.historical === true;
    try {
      d.candles.update(candleBar(change.bar), historical);
      d.volume.update(volumeBar(change.bar, d.colors), historical);
    } catch {
      // The library refused (an order it cannot take): draw everything again instead.
      redraw();
    }
    mark();
  };

  // The chart itself: created once, removed with the component.
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const colors = cssColors();
    const time = (options: Intl.DateTimeFormatOptions) =>
      new Intl.DateTimeFormat(locale.peek(), options);
    const chart = createChart(el, {
      autoSize: true,
      layout: {
        background: { type: ColorType.Solid, color: "transparent" },
        textColor: colors.text,
        fontFamily: colors.font,
        attributionLogo: false,
      },
      grid: { vertLines: { color: colors.line }, horzLines: { color: colors.line } },
      rightPriceScale: { borderColor: colors.line },
      timeScale: {
        borderColor: colors.line,
        timeVisible: true,
        secondsVisible: false,
        tickMarkFormatter: (t: Time, type: TickMarkType) => {
          const date = dateOf(t);
          if (type === TickMarkType.Year) return time({ year: "numeric" }).format(date);
          if (type === TickMarkType.Month) return time({ month: "short" }).format(date);
          if (type === TickMarkType.DayOfMonth) {
            return time({ day: "numeric", month: "short" }).format(date);
          }
          return time({ hour: "2-digit", minute: "2-digit" }).format(date);
        },
      },
      localization: {
        locale: locale.peek(),
        priceFormatter: (p: number) => formatPrice(p, { locale: locale.peek() }),
        timeFormatter: (t: Time) =>
          time({ dateStyle: "medium", timeStyle: "short" }).format(dateOf(t)),
      },
    });
    const candles = chart.addSeries(CandlestickSeries, {
      upColor: colors.up,
      downColor: colors.down,
      borderVisible: false,
      wickUpColor: colors.up,
      wickDownColor: colors.down,
    });
    const volume = chart.addSeries(HistogramSeries, {
      priceScaleId: "volume",
      priceFormat: { type: "volume" },
      lastValueVisible: false,
      priceLineVisible: false,
    });
    chart.priceScale("volume").applyOptions({ scaleMargins: { top: 0.82, bottom: 0 } });
    candles.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.22 } });
    drawn.current = { chart, candles, volume, colors };
    redraw();
    return () => {
      drawn.current = null;
      chart.remove();
    };
  }, []);

  // The history of the chosen view; live minutes meanwhile wait in a buffer.
  useEffect(() =>
    effect(() => {
      const v = view.value;
      const ac = new AbortController();
      const intervalMs = INTERVAL_MS[v.interval];
      series.current = new LiveCandles(intervalMs);
      buffered.current = [];
      state.value = "loading";
      redraw();
      const to = Date.now();
      const from = rangeStart(v, to);
      const minutes = v.interval === "1m"
        ? Promise.resolve([] as Candle[])
        : fetchCandles(symbol, "1m", { from: bucketOf(to, intervalMs), to, signal: ac.signal });
      Promise.all([
        fetchCandles(symbol, v.interval, { from, to, signal: ac.signal }),
        minutes,
      ]).then(([history, open]) => {
        if (ac.signal.aborted) return;
        const waiting = buffered.current ?? [];
        buffered.current = null;
        series.current.load(history ?? [], open ?? []);
        for (const c of waiting) series.current.apply(c);
        redraw();
        state.value = series.current.bars.length > 0
          ? "ready"
          : history === null
          ? "unavailable"
          : "empty";
      });
      return () => ac.abort();
    }), []);

  // The live minute.
  useEffect(() =>
    effect(() => {
      const c = live.value;
      if (!c) return;
      const waiting = buffered.current;
      if (waiting) {
        if (waiting.length < MAX_BUFFERED) waiting.push(c);
        return;
      }
      applyLive(c);
    }), []);

  const s = state.value;
  return (
    <div class="chart-area">
      <div ref={box} class="chart" data-testid="chart" data-state={s} />
      {s !== "ready" && (
        <p class="chart-empty" role="status">
          {s === "loading"
            ? "Loading candles…"
            : s === "unavailable"
            ? "Candles are not available for this pair yet."
            : "No trades in this range yet: candles appear as trades arrive."}
        </p>
      )}
    </div>
  );
}
