/**
 * A bounded price history per symbol for `change_pct` over 5 m and 1 h: at most one sample
 * per `sampleMs` (5 s), kept for `keepMs` (65 min), at most `maxSymbols` symbols. Every
 * isolate keeps one from the quotes it sees, so an isolate taking over the alert lease
 * has a warm history; the engine also seeds it from the stored 1 m candles.
 *
 * @module
 */

/** Options of {@linkcode PriceHistory}. */
export interface PriceHistoryOptions {
  /** One sample per this many ms at most. Default 5 000. */
  sampleMs?: number;
  /** Samples older than this are dropped, ms. Default 65 minutes. */
  keepMs?: number;
  /** Symbols tracked at most (new ones beyond are ignored). Default 500. */
  maxSymbols?: number;
}

interface Sample {
  ts: number;
  price: number;
}

/** See the module comment. */
export class PriceHistory {
  #sampleMs: number;
  #keepMs: number;
  #maxSymbols: number;
  #series = new Map<string, Sample[]>();

  constructor(options: PriceHistoryOptions = {}) {
    this.#sampleMs = options.sampleMs ?? 5_000;
    this.#keepMs = options.keepMs ?? 65 * 60_000;
    this.#maxSymbols = options.maxSymbols ?? 500;
  }

  /** Records a price (kept if it is the first of its `sampleMs` slot). */
  add(symbol: string, ts: number, price: number): void {
    if (!Number.isFinite(price) || price <= 0 || !Number.isFinite(ts)) return;
    let series = this.#series.get(symbol);
    if (!series) {
      if (this.#series.size >= this.#maxSymbols) return;
      series = [];
      this.#series.set(symbol, series);
    }
    const last = series[series.length - 1];
    if (last && ts < last.ts + this.#sampleMs) return;
    series.push({ ts, price });
    const cut = ts - this.#keepMs;
    let drop = 0;
    while (drop < series.length && series[drop].ts < cut) drop++;
    if (drop > 0) series.splice(0, drop);
  }

  /** Adds older samples (e.g. candle closes), oldest first, before what is kept. */
  seed(symbol: string, samples: { ts: number; price: number }[]): void {
    const series = this.#series.get(symbol) ?? [];
    const first = series[0]?.ts ?? Infinity;
    const older = samples.filter((s) => s.ts < first && Number.isFinite(s.price) && s.price > 0)
      .sort((a, b) => a.ts - b.ts);
    if (older.length === 0) return;
    if (!this.#series.has(symbol) && this.#series.size >= this.#maxSymbols) return;
    this.#series.set(symbol, [...older, ...series]);
  }

  /**
   * The change of `price` against the price `windowMs` ago, in percent: the newest sample
   * at or before `now − windowMs`, if it is at most a tenth of the window (≥ 1 min) older.
   */
  changePct(symbol: string, windowMs: number, now: number, price: number): number | undefined {
    const series = this.#series.get(symbol);
    if (!series || series.length === 0) return undefined;
    const at = now - windowMs;
    let lo = 0;
    let hi = series.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (series[mid].ts <= at) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return undefined;
    const base = series[found];
    if (base.ts < at - Math.max(60_000, windowMs / 10)) return undefined;
    return ((price - base.price) / base.price) * 100;
  }

  /** Samples kept for `symbol`. */
  size(symbol: string): number {
    return this.#series.get(symbol)?.length ?? 0;
  }
}
