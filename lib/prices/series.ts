/**
 * Trade statistics in fixed memory: a ring of time buckets, each holding one interval's
 * open / high / low / close, volume, price × volume and the time integral of the price.
 * VWAP, TWAP and rolling-window figures are read from the buckets, never from a list of
 * every trade, so a busy symbol costs the same memory as a quiet one.
 */

/** Figures over a window of buckets. */
export interface WindowFigures {
  /** Open of the earliest trade in the window (NaN without trades). */
  open: number;
  high: number;
  low: number;
  /** Close of the latest trade in the window (NaN without trades). */
  close: number;
  /** Base-currency volume. */
  volume: number;
  /** Volume-weighted average price (NaN without volume). */
  vwap: number;
  /** Time-weighted average price (NaN before the first trade). */
  twap: number;
  /** Start of the earliest bucket that holds data (NaN if none): how much history there is. */
  since: number;
  trades: number;
}

/** A ring of `count` buckets of `bucketMs` each. */
export class BucketSeries {
  readonly bucketMs: number;
  readonly count: number;
  // One typed array per field, indexed by slot; `#index` holds the bucket number (or -1).
  #index: Float64Array;
  #open: Float64Array;
  #openTs: Float64Array;
  #high: Float64Array;
  #low: Float64Array;
  #close: Float64Array;
  #closeTs: Float64Array;
  #volume: Float64Array;
  #pv: Float64Array;
  #area: Float64Array;
  #covered: Float64Array;
  #trades: Float64Array;
  /** The step function integrated for TWAP: the last trade's time and price. */
  #lastT = NaN;
  #lastP = NaN;

  constructor(bucketMs: number, count: number) {
    if (!(bucketMs > 0) || !(count > 0)) {
      throw new Error("Cannot create a bucket series: bucketMs and count must be > 0");
    }
    this.bucketMs = bucketMs;
    this.count = count;
    this.#index = new Float64Array(count).fill(-1);
    this.#open = new Float64Array(count);
    this.#openTs = new Float64Array(count);
    this.#high = new Float64Array(count);
    this.#low = new Float64Array(count);
    this.#close = new Float64Array(count);
    this.#closeTs = new Float64Array(count);
    this.#volume = new Float64Array(count);
    this.#pv = new Float64Array(count);
    this.#area = new Float64Array(count);
    this.#covered = new Float64Array(count);
    this.#trades = new Float64Array(count);
  }

  /** The slot of the bucket holding time `t`, reset if it held an older bucket; -1 if too old. */
  #slot(t: number): number {
    const index = Math.floor(t / this.bucketMs);
    const slot = ((index % this.count) + this.count) % this.count;
    const held = this.#index[slot];
    if (held === index) return slot;
    if (held > index) return -1;
    this.#index[slot] = index;
    this.#open[slot] = NaN;
    this.#openTs[slot] = Infinity;
    this.#high[slot] = -Infinity;
    this.#low[slot] = Infinity;
    this.#close[slot] = NaN;
    this.#closeTs[slot] = -Infinity;
    this.#volume[slot] = 0;
    this.#pv[slot] = 0;
    this.#area[slot] = 0;
    this.#covered[slot] = 0;
    this.#trades[slot] = 0;
    return slot;
  }

  /** Adds `price` held from `from` to `to` (ms) to the time integrals, bucket by bucket. */
  #integrate(from: number, to: number, price: number): void {
    const span = this.bucketMs * this.count;
    let t = Math.max(from, to - span);
    while (t < to) {
      const end = Math.min(to, (Math.floor(t / this.bucketMs) + 1) * this.bucketMs);
      const slot = this.#slot(t);
      if (slot >= 0) {
        this.#area[slot] += price * (end - t);
        this.#covered[slot] += end - t;
      }
      t = end;
    }
  }

  /**
   * Records one trade. Out-of-order trades count in volume and high / low of their own
   * bucket (and open / close by their time) but do not rewrite the TWAP's past; trades
   * older than the ring are ignored.
   */
  add(ts: number, price: number, size: number): void {
    if (!Number.isFinite(ts) || !(price > 0) || !(size >= 0)) return;
    if (Number.isNaN(this.#lastT)) {
      this.#lastT = ts;
      this.#lastP = price;
    } else if (ts >= this.#lastT) {
      this.#integrate(this.#lastT, ts, this.#lastP);
      this.#lastT = ts;
      this.#lastP = price;
    }
    const slot = this.#slot(ts);
    if (slot < 0) return;
    if (ts < this.#openTs[slot]) {
      this.#open[slot] = price;
      this.#openTs[slot] = ts;
    }
    if (ts >= this.#closeTs[slot]) {
      this.#close[slot] = price;
      this.#closeTs[slot] = ts;
    }
    if (price > this.#high[slot]) this.#high[slot] = price;
    if (price < this.#low[slot]) this.#low[slot] = price;
    this.#volume[slot] += size;
    this.#pv[slot] += price * size;
    this.#trades[slot] += 1;
  }

  /** The figures of the buckets that overlap `(now - windowMs, now]`. */
  window(now: number, windowMs: number): WindowFigures {
    const first = Math.floor((now - windowMs) / this.bucketMs) + 1;
    const last = Math.floor(now / this.bucketMs);
    let open = NaN;
    let openTs = Infinity;
    let close = NaN;
    let closeTs = -Infinity;
    let high = -Infinity;
    let low = Infinity;
    let volume = 0;
    let pv = 0;
    let area = 0;
    let covered = 0;
    let since = Infinity;
    let trades = 0;
    for (let index = Math.max(first, last - this.count + 1); index <= last; index++) {
      const slot = ((index % this.count) + this.count) % this.count;
      if (this.#index[slot] !== index) continue;
      if (this.#trades[slot] > 0 || this.#covered[slot] > 0) {
        since = Math.min(since, index * this.bucketMs);
      }
      area += this.#area[slot];
      covered += this.#covered[slot];
      if (this.#trades[slot] === 0) continue;
      trades += this.#trades[slot];
      if (this.#openTs[slot] < openTs) {
        openTs = this.#openTs[slot];
        open = this.#open[slot];
      }
      if (this.#closeTs[slot] >= closeTs) {
        closeTs = this.#closeTs[slot];
        close = this.#close[slot];
      }
      high = Math.max(high, this.#high[slot]);
      low = Math.min(low, this.#low[slot]);
      volume += this.#volume[slot];
      pv += this.#pv[slot];
    }
    // The price since the last trade counts up to now (not stored: `now` moves on).
    if (!Number.isNaN(this.#lastT) && now > this.#lastT) {
      const from = Math.max(this.#lastT, first * this.bucketMs);
      if (now > from) {
        area += this.#lastP * (now - from);
        covered += now - from;
      }
    }
    return {
      open,
      high: trades > 0 ? high : NaN,
      low: trades > 0 ? low : NaN,
      close,
      volume,
      vwap: volume > 0 ? pv / volume : NaN,
      twap: covered > 0 ? area / covered : NaN,
      since: Number.isFinite(since) ? since : NaN,
      trades,
    };
  }
}
