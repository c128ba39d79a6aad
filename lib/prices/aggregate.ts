/**
 * The aggregator: turns venue events (lib/prices/venues/types.ts) into one {@linkcode Quote}
 * per symbol, and decides when a quote is worth publishing. Pure: no timers, no I/O, the
 * clock is passed in.
 *
 * Per symbol, from the fresh venues only (connected, symbol not marked stale, last heard
 * within `maxAgeMs`): the median price; venues further from it than
 * `max(outlierMads × 1.4826 × MAD, outlierFloorPct % of the median)` are outliers; the price
 * is the median of the rest, `conf` half their range. Fewer than `quorum` used venues →
 * `degraded`; none → `stale` (the last known price is kept). VWAP / TWAP over 1 m, 5 m and
 * 1 h and the rolling 24 h figures come from trades kept in fixed-size buckets
 * (lib/prices/series.ts). A quote is due when its price moved by `deviationPct` % since the
 * last published one, when its state (stale, degraded, venues used) changed, or when
 * `heartbeatMs` passed.
 */
import { BucketSeries } from "./series.ts";
import { isPositive, MAD_TO_SIGMA, median, medianAbsoluteDeviation, roundSig } from "./stats.ts";
import type { Quote, VenueQuote } from "./types.ts";
import type { VenueEvent, VenueName, VenueTicker, VenueTrade } from "./venues/types.ts";

/** Tunables of the aggregator; every field has a default. */
export interface AggregatorSettings {
  /** A venue's price older than this is stale. Default 10 000 ms. */
  maxAgeMs: number;
  /** Publish when the price moved by at least this many percent. Default 0.01. */
  deviationPct: number;
  /** Publish at least this often, ms. Default 1 000. */
  heartbeatMs: number;
  /** Fewer used venues than this → `degraded`. Default 2. */
  quorum: number;
  /** Outlier when further from the median than this many (scaled) MADs. Default 3. */
  outlierMads: number;
  /** …and further than this percentage of the median (the floor). Default 0.5. */
  outlierFloorPct: number;
  /**
   * Trades further than this percentage from the symbol's last price are left out of
   * VWAP, TWAP, 24 h figures and candles (a venue 100× off). Default 10.
   */
  tradeBandPct: number;
}

/** The defaults of {@linkcode AggregatorSettings}. */
export const DEFAULT_AGGREGATOR_SETTINGS: AggregatorSettings = {
  maxAgeMs: 10_000,
  deviationPct: 0.01,
  heartbeatMs: 1_000,
  quorum: 2,
  outlierMads: 3,
  outlierFloorPct: 0.5,
  tradeBandPct: 10,
};

/** A venue the aggregator expects, with the symbols it lists. */
export interface AggregatorVenue {
  venue: VenueName;
  symbols: readonly string[];
  usdProxy?: boolean;
}

/** Options for {@linkcode createAggregator}. */
export interface AggregatorOptions extends Partial<AggregatorSettings> {
  /** Canonical symbols to quote; events of other symbols are ignored. */
  symbols: readonly string[];
  /** Venues known in advance (shown as `down` until they connect). Others join when heard. */
  venues?: readonly AggregatorVenue[];
  /** Clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** Counters of what the aggregator took in. */
export interface AggregatorStats {
  events: number;
  trades: number;
  /** Trades seen before (same venue, symbol and id), e.g. replayed in a snapshot. */
  duplicateTrades: number;
  /** Trades left out of the statistics (outlier venue, outside the band, malformed). */
  rejectedTrades: number;
  /** Events of a symbol not configured. */
  ignored: number;
}

/** The aggregator's interface. */
export interface Aggregator {
  readonly settings: Readonly<AggregatorSettings>;
  /**
   * Takes one venue event. Returns true for a trade that counts (not a duplicate, not from
   * an outlier venue, within the band): the caller feeds those to the candles.
   */
  ingest(event: VenueEvent): boolean;
  /** The quote of `symbol` now, or null before any venue priced it. */
  evaluate(symbol: string): Quote | null;
  /** The quotes due for publication now (see the module doc); marks them published. */
  due(): Quote[];
  /** Every symbol's latest evaluated quote. */
  quotes(): Quote[];
  /** One venue's status for one symbol at the last evaluation (`undefined` if not listed). */
  status(venue: VenueName, symbol: string): VenueQuote["status"] | undefined;
  /** Continues from stored quotes: last known price and 24 h figures until fresh data comes. */
  restore(quotes: readonly Quote[]): void;
  stats(): AggregatorStats;
}

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/** Trade ids remembered per venue and symbol for de-duplication. */
const RECENT_IDS = 512;
/** A venue clock ahead of ours by more than this: the trade is timed on arrival instead. */
const MAX_CLOCK_LEAD_MS = 2_000;

interface Ticker24h {
  open?: number;
  high?: number;
  low?: number;
  volume?: number;
}

/** What one venue says about one symbol. */
interface VenueSymbol {
  price: number | null;
  /** Venue time of the event that set `price`. */
  priceTs: number;
  /** When we last heard anything about the symbol from the venue (our clock). */
  heardAt: number;
  bid?: number;
  ask?: number;
  t24?: Ticker24h;
  staleMark: { reason: string; at: number } | null;
  recentIds: Set<string>;
  recentOrder: string[];
  status: VenueQuote["status"];
}

interface VenueState {
  venue: VenueName;
  connected: boolean;
  usdProxy: boolean;
  listed: Set<string>;
  symbols: Map<string, VenueSymbol>;
}

interface SymbolState {
  symbol: string;
  seconds: BucketSeries;
  minutes: BucketSeries;
  firstPrice: number | null;
  /** The last aggregated price (kept while stale). */
  last: Quote | null;
  /** Restored from the board: 24 h figures to fall back on. */
  restored: Quote | null;
  published: Quote | null;
  publishedAt: number;
  publishedKey: string;
}

interface VenueRow {
  state: VenueState;
  vs: VenueSymbol;
  status: VenueQuote["status"];
}

function resolveSettings(options: Partial<AggregatorSettings>): AggregatorSettings {
  const s = { ...DEFAULT_AGGREGATOR_SETTINGS };
  for (const key of Object.keys(s) as (keyof AggregatorSettings)[]) {
    const value = options[key];
    if (value !== undefined) {
      if (!Number.isFinite(value) || value < 0) {
        throw new Error(`Cannot create the aggregator: ${key} must be a number ≥ 0`);
      }
      s[key] = value;
    }
  }
  s.quorum = Math.max(1, Math.floor(s.quorum));
  return s;
}

/** Creates an aggregator. */
export function createAggregator(options: AggregatorOptions): Aggregator {
  const settings = resolveSettings(options);
  const now = options.now ?? Date.now;
  const configured = new Set(options.symbols);
  const venues = new Map<VenueName, VenueState>();
  const symbols = new Map<string, SymbolState>();
  const stats: AggregatorStats = {
    events: 0,
    trades: 0,
    duplicateTrades: 0,
    rejectedTrades: 0,
    ignored: 0,
  };

  for (const symbol of configured) {
    symbols.set(symbol, {
      symbol,
      seconds: new BucketSeries(1_000, 5 * 60),
      minutes: new BucketSeries(MINUTE_MS, 24 * 60),
      firstPrice: null,
      last: null,
      restored: null,
      published: null,
      publishedAt: -Infinity,
      publishedKey: "",
    });
  }
  for (const v of options.venues ?? []) venueState(v.venue, v.usdProxy ?? false, v.symbols);

  function venueState(venue: VenueName, usdProxy: boolean, listed?: readonly string[]) {
    let state = venues.get(venue);
    if (!state) {
      state = { venue, connected: false, usdProxy, listed: new Set(), symbols: new Map() };
      venues.set(venue, state);
    }
    if (usdProxy) state.usdProxy = true;
    for (const s of listed ?? []) if (configured.has(s)) state.listed.add(s);
    return state;
  }

  function venueSymbol(state: VenueState, symbol: string): VenueSymbol {
    let vs = state.symbols.get(symbol);
    if (!vs) {
      vs = {
        price: null,
        priceTs: -Infinity,
        heardAt: -Infinity,
        staleMark: null,
        recentIds: new Set(),
        recentOrder: [],
        status: "down",
      };
      state.symbols.set(symbol, vs);
      state.listed.add(symbol);
    }
    return vs;
  }

  /** Data about a symbol clears a stale mark that data can clear (quiet, disconnected). */
  function heard(vs: VenueSymbol, at: number): void {
    vs.heardAt = Math.max(vs.heardAt, at);
    const mark = vs.staleMark;
    if (mark && (mark.reason === "quiet" || mark.reason === "disconnected") && at >= mark.at) {
      vs.staleMark = null;
    }
  }

  function onTicker(e: VenueTicker): void {
    const state = venueState(e.venue, e.usdProxy);
    state.connected = true;
    const vs = venueSymbol(state, e.symbol);
    heard(vs, e.receivedAt);
    if (!isPositive(e.price)) return;
    if (e.ts >= vs.priceTs) {
      vs.price = e.price;
      vs.priceTs = e.ts;
      vs.bid = isPositive(e.bid) ? e.bid : vs.bid;
      vs.ask = isPositive(e.ask) ? e.ask : vs.ask;
    }
    const t24: Ticker24h = { ...vs.t24 };
    if (isPositive(e.open24h)) t24.open = e.open24h;
    if (isPositive(e.high24h)) t24.high = e.high24h;
    if (isPositive(e.low24h)) t24.low = e.low24h;
    if (typeof e.volume24h === "number" && Number.isFinite(e.volume24h) && e.volume24h >= 0) {
      t24.volume = e.volume24h;
    }
    vs.t24 = t24;
  }

  function onTrade(e: VenueTrade): boolean {
    stats.trades++;
    const state = venueState(e.venue, e.usdProxy);
    state.connected = true;
    const vs = venueSymbol(state, e.symbol);
    heard(vs, e.receivedAt);
    if (!isPositive(e.price) || !isPositive(e.size)) {
      stats.rejectedTrades++;
      return false;
    }
    const id = String(e.tradeId);
    if (vs.recentIds.has(id)) {
      stats.duplicateTrades++;
      return false;
    }
    vs.recentIds.add(id);
    vs.recentOrder.push(id);
    if (vs.recentOrder.length > RECENT_IDS) vs.recentIds.delete(vs.recentOrder.shift()!);
    const ts = e.ts > e.receivedAt + MAX_CLOCK_LEAD_MS ? e.receivedAt : e.ts;
    // A trade replayed in a snapshot is history: it does not set the venue's current price.
    if (ts >= vs.priceTs && ts >= e.receivedAt - settings.maxAgeMs) {
      vs.price = e.price;
      vs.priceTs = ts;
    }
    const sym = symbols.get(e.symbol)!;
    const reference = sym.last?.price;
    // Classify again with this trade's price: a venue that just jumped off the others
    // is an outlier now, not at the next evaluation.
    for (const r of classify(e.symbol, now()).rows) r.vs.status = r.status;
    if (
      vs.status === "outlier" ||
      (reference !== undefined &&
        Math.abs(e.price / reference - 1) * 100 > settings.tradeBandPct)
    ) {
      stats.rejectedTrades++;
      return false;
    }
    sym.seconds.add(ts, e.price, e.size);
    sym.minutes.add(ts, e.price, e.size);
    return true;
  }

  function ingest(event: VenueEvent): boolean {
    stats.events++;
    switch (event.kind) {
      case "connection": {
        const state = venueState(event.venue, false);
        state.connected = event.connected;
        return false;
      }
      case "symbol": {
        if (!configured.has(event.symbol)) return ignore();
        const vs = venueSymbol(venueState(event.venue, false), event.symbol);
        vs.staleMark = event.state === "stale" ? { reason: event.reason, at: event.at } : null;
        if (event.state === "fresh") vs.heardAt = Math.max(vs.heardAt, event.at);
        return false;
      }
      case "ticker":
        if (!configured.has(event.symbol)) return ignore();
        onTicker(event);
        return false;
      case "trade":
        if (!configured.has(event.symbol)) return ignore();
        return onTrade(event);
    }
  }

  function ignore(): false {
    stats.ignored++;
    return false;
  }

  /** Each listed venue's status; prices of the fresh ones. */
  function classify(symbol: string, t: number) {
    let disagreement = false;
    const rows: VenueRow[] = [];
    for (const state of venues.values()) {
      if (!state.listed.has(symbol)) continue;
      const vs = venueSymbol(state, symbol);
      let status: VenueQuote["status"];
      if (!state.connected) status = "down";
      else if (vs.price === null || vs.staleMark || t - vs.heardAt > settings.maxAgeMs) {
        status = "stale";
      } else status = "used";
      rows.push({ state, vs, status });
    }
    const fresh = rows.filter((r) => r.status === "used");
    const prices = fresh.map((r) => r.vs.price!);
    if (prices.length >= 3) {
      const m = median(prices);
      const limit = Math.max(
        settings.outlierMads * MAD_TO_SIGMA * medianAbsoluteDeviation(prices, m),
        (settings.outlierFloorPct / 100) * m,
      );
      for (const r of fresh) if (Math.abs(r.vs.price! - m) > limit) r.status = "outlier";
    } else if (prices.length === 2) {
      // Two venues cannot outvote each other: when they disagree beyond the floor, keep
      // the one closer to the last price (if there is one) and call the quote degraded.
      const [a, b] = prices;
      const m = (a + b) / 2;
      const reference = symbols.get(symbol)!.last?.price;
      if (Math.abs(a - b) / 2 > (settings.outlierFloorPct / 100) * m) {
        disagreement = true;
        if (reference) {
          fresh[Math.abs(a - reference) > Math.abs(b - reference) ? 0 : 1].status = "outlier";
        }
      }
    }
    return { rows, disagreement };
  }

  function twentyFour(sym: SymbolState, rows: VenueRow[], price: number, t: number) {
    const day = sym.minutes.window(t, DAY_MS);
    const coverage = Number.isNaN(day.since) ? 0 : t - day.since;
    let open = day.open;
    let high = Number.isNaN(day.high) ? price : Math.max(day.high, price);
    let low = Number.isNaN(day.low) ? price : Math.min(day.low, price);
    let volume = day.volume;
    if (coverage < DAY_MS - MINUTE_MS) {
      // Short history (just started): the venues' own 24 h figures fill the rest.
      const seeds = rows.filter((r) => r.status !== "outlier" && r.vs.t24).map((r) => r.vs.t24!);
      const opens = seeds.flatMap((s) => s.open ?? []);
      const highs = seeds.flatMap((s) => s.high ?? []);
      const lows = seeds.flatMap((s) => s.low ?? []);
      const volumes = seeds.flatMap((s) => s.volume ?? []);
      const restored = sym.restored;
      const missing = 1 - coverage / DAY_MS;
      if (opens.length > 0) open = median(opens);
      else if (restored && isPositive(restored.open24h)) open = restored.open24h;
      if (highs.length > 0) high = Math.max(high, median(highs));
      else if (restored?.high24h) high = Math.max(high, restored.high24h);
      if (lows.length > 0) low = Math.min(low, median(lows));
      else if (restored?.low24h) low = Math.min(low, restored.low24h);
      if (volumes.length > 0) volume += volumes.reduce((a, b) => a + b, 0) * missing;
      else if (restored) volume += restored.volume24h * missing;
    }
    if (!isPositive(open)) open = sym.firstPrice ?? price;
    return { open, high, low, volume };
  }

  function evaluate(symbol: string): Quote | null {
    const sym = symbols.get(symbol);
    if (!sym) return null;
    const t = now();
    const { rows, disagreement } = classify(symbol, t);
    for (const r of rows) r.vs.status = r.status;
    const used = rows.filter((r) => r.status === "used");
    const base = sym.last ?? sym.restored;
    let price: number;
    let conf: number;
    let bid: number;
    let ask: number;
    if (used.length > 0) {
      const prices = used.map((r) => r.vs.price!);
      price = roundSig(median(prices));
      conf = roundSig((Math.max(...prices) - Math.min(...prices)) / 2);
      const bids = used.flatMap((r) => r.vs.bid ?? []);
      const asks = used.flatMap((r) => r.vs.ask ?? []);
      bid = bids.length > 0 ? roundSig(median(bids)) : price;
      ask = asks.length > 0 ? roundSig(median(asks)) : price;
      sym.firstPrice ??= price;
    } else if (base) {
      ({ price, bid, ask } = base);
      conf = base.conf ?? 0;
    } else {
      // Never priced from fresh venues: the stale venues' last prices, flagged stale.
      const known = rows.flatMap((r) => r.vs.price ?? []);
      if (known.length === 0) return null;
      price = bid = ask = roundSig(median(known));
      conf = roundSig((Math.max(...known) - Math.min(...known)) / 2);
    }
    const day = twentyFour(sym, rows, price, t);
    const venuesOut: Record<string, VenueQuote> = {};
    for (const r of rows) {
      const entry: VenueQuote = {
        price: r.vs.price,
        ageMs: Number.isFinite(r.vs.heardAt) ? Math.max(0, t - r.vs.heardAt) : null,
        status: r.status,
      };
      if (r.state.usdProxy) entry.usdProxy = true;
      venuesOut[r.state.venue] = entry;
    }
    const q: Quote = {
      symbol,
      price,
      bid,
      ask,
      open24h: roundSig(day.open),
      change24hPct: Math.round(((price - day.open) / day.open) * 10_000) / 100,
      volume24h: roundSig(day.volume),
      sources: used.map((r) => r.state.venue),
      ts: t,
      conf,
      high24h: roundSig(day.high),
      low24h: roundSig(day.low),
      vwap: windows(sym, t, "vwap"),
      twap: windows(sym, t, "twap"),
      sourcesUsed: used.length,
      stale: used.length === 0,
      degraded: used.length < settings.quorum || disagreement,
      venues: venuesOut,
    };
    sym.last = q;
    return q;
  }

  function windows(sym: SymbolState, t: number, field: "vwap" | "twap") {
    const out: NonNullable<Quote["vwap"]> = {};
    const m1 = sym.seconds.window(t, MINUTE_MS)[field];
    const m5 = sym.seconds.window(t, 5 * MINUTE_MS)[field];
    const h1 = sym.minutes.window(t, 60 * MINUTE_MS)[field];
    if (Number.isFinite(m1)) out["1m"] = roundSig(m1);
    if (Number.isFinite(m5)) out["5m"] = roundSig(m5);
    if (Number.isFinite(h1)) out["1h"] = roundSig(h1);
    return out;
  }

  function stateKey(q: Quote): string {
    const venueKey = Object.entries(q.venues ?? {}).map(([v, s]) => `${v}=${s.status}`).join();
    return `${q.stale}|${q.degraded}|${q.sourcesUsed}|${venueKey}`;
  }

  return {
    settings,
    ingest,
    evaluate,
    due(): Quote[] {
      const out: Quote[] = [];
      for (const sym of symbols.values()) {
        const q = evaluate(sym.symbol);
        if (!q) continue;
        const key = stateKey(q);
        const last = sym.published;
        const moved = !last ||
          Math.abs(q.price - last.price) / last.price * 100 >= settings.deviationPct;
        if (moved || key !== sym.publishedKey || q.ts - sym.publishedAt >= settings.heartbeatMs) {
          sym.published = q;
          sym.publishedAt = q.ts;
          sym.publishedKey = key;
          out.push(q);
        }
      }
      return out;
    },
    quotes: () => [...symbols.values()].flatMap((s) => s.last ?? []),
    status: (venue, symbol) => venues.get(venue)?.symbols.get(symbol)?.status,
    restore(quotes): void {
      for (const q of quotes) {
        const sym = symbols.get(q.symbol);
        if (!sym || !isPositive(q.price)) continue;
        sym.restored = { ...q };
        sym.firstPrice ??= q.price;
      }
    },
    stats: () => ({ ...stats }),
  };
}
