/**
 * A market overview summarised from the board's quotes, pure. The overview strip uses
 * the server's `market:overview` value when there is one; this is what it shows before
 * (server render without an overview) and where the channel is not offered.
 *
 * @module
 */
import { baseAsset } from "../format.ts";
import type { MarketOverview, Quote } from "../types.ts";

/** Movers listed per side. */
const MOVERS = 3;

/** The overview of `quotes` at `ts`. */
export function summarizeQuotes(quotes: readonly Quote[], ts: number): MarketOverview {
  let volume24hUsd = 0;
  let advancers = 0;
  let decliners = 0;
  const byAsset = new Map<string, number>();
  const venues = new Map<string, { connected: boolean; ageMs: number | null; stale: number }>();
  for (const q of quotes) {
    const usd = q.volume24h * q.price;
    if (Number.isFinite(usd) && usd > 0) {
      volume24hUsd += usd;
      const asset = baseAsset(q.symbol);
      byAsset.set(asset, (byAsset.get(asset) ?? 0) + usd);
    }
    if (q.change24hPct > 0) advancers++;
    else if (q.change24hPct < 0) decliners++;
    for (const [venue, v] of Object.entries(q.venues ?? {})) {
      const seen = venues.get(venue) ?? { connected: false, ageMs: null, stale: 0 };
      if (v.status !== "down") seen.connected = true;
      if (v.status === "stale") seen.stale++;
      if (v.ageMs !== null && (seen.ageMs === null || v.ageMs < seen.ageMs)) seen.ageMs = v.ageMs;
      venues.set(venue, seen);
    }
  }
  const movers = quotes
    .filter((q) => Number.isFinite(q.change24hPct))
    .map((q) => ({ symbol: q.symbol, changePct: q.change24hPct, price: q.price }));
  const gainers = movers.filter((m) => m.changePct > 0)
    .sort((a, b) => b.changePct - a.changePct).slice(0, MOVERS);
  const losers = movers.filter((m) => m.changePct < 0)
    .sort((a, b) => a.changePct - b.changePct).slice(0, MOVERS);
  const volumeShare = [...byAsset]
    .map(([asset, usd]) => ({ asset, share: volume24hUsd > 0 ? usd / volume24hUsd : 0 }))
    .sort((a, b) => b.share - a.share);
  return {
    ts,
    volume24hUsd,
    gainers,
    losers,
    advancers,
    decliners,
    volumeShare,
    venues: [...venues].map(([venue, v]) => ({
      venue,
      connected: v.connected,
      ageMs: v.ageMs,
      staleSymbols: v.stale,
    })),
  };
}
