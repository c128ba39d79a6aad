import type { VenueHealth } from "./venues/types.ts";

/** One symbol's current price, as shown on the board and sent on `prices:{SYMBOL}`. */
export interface Quote {
  /** Trading pair, e.g. `BTC-USD`. */
  symbol: string;
  /** Last price in the quote currency. */
  price: number;
  /** Best bid, when known. */
  bid: number;
  /** Best ask, when known. */
  ask: number;
  /** Price 24 h ago (the simulated session's open), for the change figure. */
  open24h: number;
  /** Change since `open24h`, in percent. */
  change24hPct: number;
  /** Traded volume over the last 24 h, in the base currency. */
  volume24h: number;
  /** Where the price came from: the venues whose price was used. */
  sources: string[];
  /** Milliseconds since the epoch when this quote was produced. */
  ts: number;
  /**
   * Confidence: half the spread of the used venues' prices around the median (Pyth-style),
   * in the quote currency; 0 with a single venue.
   */
  conf?: number;
  /** Rolling 24 h high / low (over the last 24 h, not the UTC day). */
  high24h?: number;
  low24h?: number;
  /** Volume-weighted and time-weighted average prices from trades, per window. */
  vwap?: { "1m"?: number; "5m"?: number; "1h"?: number };
  twap?: { "1m"?: number; "5m"?: number; "1h"?: number };
  /** How many fresh, non-outlier venues the price is the median of. */
  sourcesUsed?: number;
  /** No venue has a fresh price: `price` is the last known one. */
  stale?: boolean;
  /** Fewer than the quorum (2) of fresh venues agree: use with care. */
  degraded?: boolean;
  /** Every configured venue's view of this symbol. */
  venues?: Record<string, VenueQuote>;
}

/** One venue's part in a {@linkcode Quote}. */
export interface VenueQuote {
  /** The venue's last price (null before its first). */
  price: number | null;
  /** Age of that price, ms, when the quote was made (null before its first). */
  ageMs: number | null;
  status: "used" | "outlier" | "stale" | "down";
  /** Quoted in USDT standing in for USD. */
  usdProxy?: boolean;
}

/** One OHLCV candle. `t` is the interval's start, ms since the epoch. */
export interface Candle {
  t: number;
  o: number;
  h: number;
  l: number;
  c: number;
  /** Base-currency volume. */
  v: number;
  /** Trades counted. */
  n: number;
}

/** Candle intervals kept. */
export type CandleInterval = "1m" | "1h";

/** The `market:overview` channel's value and the overview strip's data. */
export interface MarketOverview {
  ts: number;
  /** Sum over symbols of 24 h volume × price, USD. */
  volume24hUsd: number;
  /** Symbols by 24 h change, best first / worst first (at most 3 each). */
  gainers: { symbol: string; changePct: number; price: number }[];
  losers: { symbol: string; changePct: number; price: number }[];
  advancers: number;
  decliners: number;
  /** Share of 24 h USD volume per base asset (0–1), largest first. */
  volumeShare: { asset: string; share: number }[];
  /** Each venue's health in brief. */
  venues: { venue: string; connected: boolean; ageMs: number | null; staleSymbols: number }[];
}

/** The channel carrying a symbol's open candle (latest value). */
export function candleChannel(symbol: string, interval: CandleInterval = "1m"): string {
  return interval === "1m" ? `candles:${symbol}` : `candles:${symbol}@${interval}`;
}

/** The market overview's channel. */
export const OVERVIEW_CHANNEL = "market:overview";

/** Every symbol's latest quote, stored as one KV value and watched by every isolate. */
export interface PriceBoard {
  /** Increases by one with every write. */
  seq: number;
  /** When the board was written (ms since the epoch). */
  ts: number;
  /** Latest quote per symbol. */
  quotes: Record<string, Quote>;
  /**
   * The newest candle per `candles:` channel name (`BTC-USD` for 1 m, `BTC-USD@1h`), the
   * snapshot a subscriber gets. Written by the price engine.
   */
  candles?: Record<string, Candle>;
  /** The latest market overview (the `market:overview` snapshot). */
  overview?: MarketOverview;
  /** Each venue's health as of `ts` (for `GET /api/sources` on any isolate). */
  venues?: VenueHealth[];
}

/** The channel that carries one symbol's quotes. */
export function priceChannel(symbol: string): string {
  return `prices:${symbol}`;
}

/** The symbol carried by a `prices:` channel, or `undefined` for any other channel. */
export function symbolOfChannel(channel: string): string | undefined {
  return channel.startsWith("prices:") ? channel.slice("prices:".length) : undefined;
}
