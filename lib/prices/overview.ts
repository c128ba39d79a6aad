/**
 * The market overview (`market:overview`, the strip on `/`): 24 h USD volume, top gainers
 * and losers, advancers / decliners, each asset's share of the volume, and the venues'
 * health in brief. Pure: computed from the quotes and the venues' health.
 */
import { baseAsset } from "./format.ts";
import { roundSig } from "./stats.ts";
import type { MarketOverview, Quote } from "./types.ts";
import type { VenueHealth } from "./venues/types.ts";

/** How many gainers and losers the overview lists. */
export const TOP_MOVERS = 3;

/** Builds the overview at time `now`. Quotes with no usable price are left out. */
export function computeOverview(
  quotes: readonly Quote[],
  venues: readonly VenueHealth[],
  now: number,
): MarketOverview {
  const usable = quotes.filter((q) =>
    Number.isFinite(q.price) && q.price > 0 && Number.isFinite(q.change24hPct)
  );
  const usdVolume = new Map<string, number>();
  let total = 0;
  for (const q of usable) {
    const usd = Number.isFinite(q.volume24h) && q.volume24h > 0 ? q.volume24h * q.price : 0;
    const asset = baseAsset(q.symbol);
    usdVolume.set(asset, (usdVolume.get(asset) ?? 0) + usd);
    total += usd;
  }
  const mover = (q: Quote) => ({ symbol: q.symbol, changePct: q.change24hPct, price: q.price });
  const byChange = [...usable].sort((a, b) =>
    b.change24hPct - a.change24hPct || a.symbol.localeCompare(b.symbol)
  );
  return {
    ts: now,
    volume24hUsd: Math.round(total),
    gainers: byChange.filter((q) => q.change24hPct > 0).slice(0, TOP_MOVERS).map(mover),
    losers: byChange.filter((q) => q.change24hPct < 0).reverse().slice(0, TOP_MOVERS).map(mover),
    advancers: usable.filter((q) => q.change24hPct > 0).length,
    decliners: usable.filter((q) => q.change24hPct < 0).length,
    volumeShare: [...usdVolume]
      .map(([asset, usd]) => ({ asset, share: total > 0 ? roundSig(usd / total, 4) : 0 }))
      .sort((a, b) => b.share - a.share || a.asset.localeCompare(b.asset)),
    venues: venues.map((v) => ({
      venue: v.venue,
      connected: v.connected,
      ageMs: v.lastMessageAt === null ? null : Math.max(0, now - v.lastMessageAt),
      staleSymbols: v.staleSymbols.length,
    })),
  };
}
