/**
 * Validation of what the browser receives about prices (channel messages and JSON
 * answers), with `zod/mini` to keep the island bundles small. Anything that does not fit
 * is `null`: the caller drops and counts it, and the page goes on.
 *
 * @module
 */
import * as z from "zod/mini";
import type { Candle, MarketOverview, Quote } from "../types.ts";

/** A pair as the app spells it (`BTC-USD`). */
export const SYMBOL_PATTERN = /^[A-Z0-9]{2,10}-[A-Z]{3,5}$/;

const finite = () => z.number();
const symbol = () => z.string().check(z.regex(SYMBOL_PATTERN));
const name = () => z.string().check(z.maxLength(40));
const windows = () =>
  z.optional(z.object({
    "1m": z.optional(finite()),
    "5m": z.optional(finite()),
    "1h": z.optional(finite()),
  }));

const venueQuote = z.object({
  price: z.nullable(finite()),
  ageMs: z.nullable(finite()),
  status: z.enum(["used", "outlier", "stale", "down"]),
  usdProxy: z.optional(z.boolean()),
});

/** Venues kept per quote (more is not a quote of this app). */
const MAX_VENUES = 16;

const quote = z.object({
  symbol: symbol(),
  price: finite(),
  bid: finite(),
  ask: finite(),
  open24h: finite(),
  change24hPct: finite(),
  volume24h: finite(),
  sources: z.array(name()).check(z.maxLength(MAX_VENUES)),
  ts: finite(),
  conf: z.optional(finite()),
  high24h: z.optional(finite()),
  low24h: z.optional(finite()),
  vwap: windows(),
  twap: windows(),
  sourcesUsed: z.optional(z.number().check(z.int(), z.gte(0))),
  stale: z.optional(z.boolean()),
  degraded: z.optional(z.boolean()),
  venues: z.optional(z.record(name(), venueQuote)),
});

/** A {@linkcode Quote}, or `null` when `data` is not one. */
export function parseQuote(data: unknown): Quote | null {
  const r = quote.safeParse(data);
  if (!r.success) return null;
  if (r.data.venues && Object.keys(r.data.venues).length > MAX_VENUES) return null;
  return r.data;
}

const candle = z.object({
  t: finite(),
  o: finite(),
  h: finite(),
  l: finite(),
  c: finite(),
  v: finite(),
  n: finite(),
});

/** A {@linkcode Candle}, or `null` when `data` is not one (or its prices disagree). */
export function parseCandle(data: unknown): Candle | null {
  const r = candle.safeParse(data);
  if (!r.success) return null;
  const c = r.data;
  if (!(c.h >= c.l && c.h >= Math.max(c.o, c.c) && c.l <= Math.min(c.o, c.c))) return null;
  if (c.v < 0 || c.n < 0) return null;
  return c;
}

/** Candles accepted from one answer of `GET /api/candles`. */
export const MAX_CANDLES = 5_000;

/**
 * The candles of a `GET /api/candles` answer — a bare array or `{ candles: [...] }` —
 * valid ones only, sorted by time, one per `t`, at most {@linkcode MAX_CANDLES} (the
 * newest). Returns `null` when the answer is neither shape.
 */
export function parseCandleList(data: unknown): Candle[] | null {
  const list = Array.isArray(data)
    ? data
    : data && typeof data === "object" && Array.isArray((data as { candles?: unknown }).candles)
    ? (data as { candles: unknown[] }).candles
    : null;
  if (!list) return null;
  const byTime = new Map<number, Candle>();
  for (const item of list.slice(-MAX_CANDLES)) {
    const c = parseCandle(item);
    if (c) byTime.set(c.t, c);
  }
  return [...byTime.values()].sort((a, b) => a.t - b.t);
}

const mover = z.object({ symbol: symbol(), changePct: finite(), price: finite() });

const overview = z.object({
  ts: finite(),
  volume24hUsd: finite(),
  gainers: z.array(mover).check(z.maxLength(20)),
  losers: z.array(mover).check(z.maxLength(20)),
  advancers: finite(),
  decliners: finite(),
  volumeShare: z.array(z.object({ asset: name(), share: finite() })).check(z.maxLength(50)),
  venues: z.array(z.object({
    venue: name(),
    connected: z.boolean(),
    ageMs: z.nullable(finite()),
    staleSymbols: finite(),
  })).check(z.maxLength(MAX_VENUES)),
});

/** A {@linkcode MarketOverview}, or `null` when `data` is not one. */
export function parseOverview(data: unknown): MarketOverview | null {
  const r = overview.safeParse(data);
  return r.success ? r.data : null;
}
