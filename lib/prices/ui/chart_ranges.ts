/**
 * The pair chart's intervals and time ranges, pure. 1-minute candles are kept for 24 h
 * and 1-hour candles for 30 days, so a range picks the interval it can be drawn with.
 *
 * @module
 */
import type { CandleInterval } from "../types.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A time range of the chart. */
export interface ChartRange {
  id: "1h" | "6h" | "1d" | "7d" | "30d";
  label: string;
  ms: number;
  /** The intervals this range can be drawn with; the first is its default. */
  intervals: readonly CandleInterval[];
}

/** The ranges offered, shortest first. */
export const CHART_RANGES: readonly ChartRange[] = [
  { id: "1h", label: "1H", ms: HOUR, intervals: ["1m"] },
  { id: "6h", label: "6H", ms: 6 * HOUR, intervals: ["1m", "1h"] },
  { id: "1d", label: "1D", ms: DAY, intervals: ["1m", "1h"] },
  { id: "7d", label: "7D", ms: 7 * DAY, intervals: ["1h"] },
  { id: "30d", label: "30D", ms: 30 * DAY, intervals: ["1h"] },
];

/** Milliseconds per interval. */
export const INTERVAL_MS: Readonly<Record<CandleInterval, number>> = {
  "1m": 60_000,
  "1h": HOUR,
};

/** What the chart shows. */
export interface ChartView {
  interval: CandleInterval;
  range: ChartRange["id"];
}

/** The default view: 6 hours of 1-minute candles. */
export const DEFAULT_VIEW: ChartView = { interval: "1m", range: "6h" };

function rangeOf(id: ChartRange["id"]): ChartRange {
  return CHART_RANGES.find((r) => r.id === id) ?? CHART_RANGES[1];
}

/** The view after choosing `range`: the interval is kept when the range allows it. */
export function withRange(view: ChartView, range: ChartRange["id"]): ChartView {
  const r = rangeOf(range);
  return {
    range: r.id,
    interval: r.intervals.includes(view.interval) ? view.interval : r.intervals[0],
  };
}

/** The view after choosing `interval`: the range is kept when it allows the interval. */
export function withInterval(view: ChartView, interval: CandleInterval): ChartView {
  if (rangeOf(view.range).intervals.includes(interval)) return { ...view, interval };
  return { interval, range: interval === "1m" ? "6h" : "7d" };
}

/** The `from` of the candles query for `view` at `now`. */
export function rangeStart(view: ChartView, now: number): number {
  return now - rangeOf(view.range).ms;
}
