/**
 * The pair page's candle series, pure: history from `GET /api/candles` plus the live
 * 1-minute candle of `candles:{SYMBOL}`, for a 1 m or a 1 h chart.
 *
 * A chart library can only change its last bar or add a newer one (lightweight-charts
 * throws on an older time unless told it is a historical update of an existing bar), so
 * {@linkcode LiveCandles.apply} says exactly what to do, or that the update is dropped: a
 * late minute merges into the open hour bar of a 1 h chart, replaces its own bar on a 1 m
 * chart when that bar is there, and is dropped (and counted) otherwise.
 *
 * @module
 */
import type { Candle } from "../types.ts";

/**
 * What to do with the chart after {@linkcode LiveCandles.apply}: change the last bar, add
 * a newer one, change an older bar in place (`historical`: a late minute of a 1 m chart
 * whose bar is there), or nothing.
 */
export type BarChange =
  | { op: "update"; bar: Candle; historical?: boolean }
  | { op: "append"; bar: Candle }
  | { op: "drop"; reason: "late" | "older_state" };

/** Bars kept in memory; older ones are forgotten (the chart keeps what it was given). */
export const MAX_BARS = 5_000;

/** The start of the `intervalMs` bucket that holds `t`. */
export function bucketOf(t: number, intervalMs: number): number {
  return Math.floor(t / intervalMs) * intervalMs;
}

/** One bar made of `candles` (any order), starting at `t`; `null` for none. */
export function rollup(candles: readonly Candle[], t: number): Candle | null {
  if (candles.length === 0) return null;
  const sorted = [...candles].sort((a, b) => a.t - b.t);
  let h = -Infinity;
  let l = Infinity;
  let v = 0;
  let n = 0;
  for (const c of sorted) {
    if (c.h > h) h = c.h;
    if (c.l < l) l = c.l;
    v += c.v;
    n += c.n;
  }
  return { t, o: sorted[0].o, h, l, c: sorted[sorted.length - 1].c, v, n };
}

/** Candles of one interval, kept sorted, with the live 1-minute candle merged in. */
export class LiveCandles {
  readonly intervalMs: number;
  #bars: Candle[] = [];
  /** The open bucket's minutes (1 h charts), by minute start. */
  #minutes = new Map<number, Candle>();
  /** The open bucket's bar as the history gave it (used when no minute is known). */
  #base: Candle | null = null;
  #dropped = 0;

  constructor(intervalMs: number) {
    if (!(intervalMs >= 60_000 && intervalMs % 60_000 === 0)) {
      throw new Error(
        `Cannot build candles: the interval must be whole minutes, got ${intervalMs}`,
      );
    }
    this.intervalMs = intervalMs;
  }

  /** The bars, oldest first. */
  get bars(): readonly Candle[] {
    return this.#bars;
  }

  /** Live updates dropped (late on a 1 m chart, or an older state of the open bar). */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Replaces the history. `candles` are of this interval (validated, any order);
   * `minutes` are the 1-minute candles of the newest bucket, when the interval is longer
   * than a minute, so its bar stays exact as live minutes arrive.
   */
  load(candles: readonly Candle[], minutes: readonly Candle[] = []): void {
    const byTime = new Map<number, Candle>();
    for (const c of candles) {
      byTime.set(bucketOf(c.t, this.intervalMs), { ...c, t: bucketOf(c.t, this.intervalMs) });
    }
    this.#bars = [...byTime.values()].sort((a, b) => a.t - b.t).slice(-MAX_BARS);
    this.#minutes.clear();
    this.#base = null;
    if (this.intervalMs === 60_000) return;
    const last = this.#bars.at(-1);
    const open = minutes.length > 0
      ? bucketOf(Math.max(...minutes.map((m) => m.t)), this.intervalMs)
      : last?.t;
    if (open === undefined) return;
    for (const m of minutes) if (bucketOf(m.t, this.intervalMs) === open) this.#minutes.set(m.t, m);
    this.#base = last?.t === open ? last : null;
    const bar = this.#openBar(open);
    if (bar) this.#put(bar);
  }

  /** Merges a live 1-minute candle; says what the chart must do. */
  apply(minute: Candle): BarChange {
    const t = bucketOf(minute.t, this.intervalMs);
    const last = this.#bars.at(-1);
    if (last && t < last.t) {
      if (this.intervalMs !== 60_000) return this.#drop("late");
      const i = this.#indexOf(t);
      if (i < 0) return this.#drop("late");
      if (minute.n < this.#bars[i].n) return this.#drop("older_state");
      const bar = { ...minute, t };
      this.#bars[i] = bar;
      return { op: "update", bar, historical: true };
    }
    if (this.intervalMs === 60_000) {
      if (last && t === last.t && minute.n < last.n) return this.#drop("older_state");
      const bar = { ...minute, t };
      return this.#put(bar);
    }
    if (last && t > last.t) {
      this.#minutes.clear();
      this.#base = null;
    }
    const known = this.#minutes.get(minute.t);
    if (known && minute.n < known.n) return this.#drop("older_state");
    this.#minutes.set(minute.t, minute);
    return this.#put(this.#openBar(t)!);
  }

  /** The index of the bar starting at `t`, or -1 (binary search: bars are sorted). */
  #indexOf(t: number): number {
    let lo = 0;
    let hi = this.#bars.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const at = this.#bars[mid].t;
      if (at === t) return mid;
      if (at < t) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  #openBar(t: number): Candle | null {
    const fromMinutes = rollup([...this.#minutes.values()], t);
    const base = this.#base;
    if (!base) return fromMinutes;
    if (!fromMinutes) return base;
    // The history's bar covers minutes we may not have: widen it, never shrink it.
    return {
      t,
      o: base.o,
      h: Math.max(base.h, fromMinutes.h),
      l: Math.min(base.l, fromMinutes.l),
      c: fromMinutes.c,
      v: Math.max(base.v, fromMinutes.v),
      n: Math.max(base.n, fromMinutes.n),
    };
  }

  #put(bar: Candle): BarChange {
    const last = this.#bars.at(-1);
    if (last && last.t === bar.t) {
      this.#bars[this.#bars.length - 1] = bar;
      return { op: "update", bar };
    }
    this.#bars.push(bar);
    if (this.#bars.length > MAX_BARS) this.#bars.splice(0, this.#bars.length - MAX_BARS);
    return { op: "append", bar };
  }

  #drop(reason: "late" | "older_state"): BarChange {
    this.#dropped++;
    return { op: "drop", reason };
  }
}

/** One line of the "recent trades" list, derived from two states of the live candle. */
export interface TradeBurst {
  /** When the update arrived (ms since the epoch). */
  ts: number;
  /** The candle's close after the trades: the last trade's price. */
  price: number;
  /** Base volume traded since the previous update. */
  size: number;
  /** Trades since the previous update. */
  count: number;
  /** The price against the previous update's close. */
  side: "up" | "down" | "flat";
}

/**
 * The trades between two states of the live 1-minute candle (the server publishes no
 * single trades): `null` when there is no previous state to compare with, or no new trade.
 */
export function tradeBurst(prev: Candle | undefined, next: Candle, ts: number): TradeBurst | null {
  if (!prev || next.t < prev.t) return null;
  const sameMinute = next.t === prev.t;
  const count = sameMinute ? next.n - prev.n : next.n;
  const size = sameMinute ? next.v - prev.v : next.v;
  if (count <= 0 && size <= 0) return null;
  const side = next.c > prev.c ? "up" : next.c < prev.c ? "down" : "flat";
  return { ts, price: next.c, size: Math.max(0, size), count: Math.max(0, count), side };
}
