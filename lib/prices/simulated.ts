/**
 * A simulated market: a seeded geometric random walk per symbol, so the dashboard is
 * alive with no network. The same seed and clock give the same prices.
 */
import { gaussian, seededRandom } from "./random.ts";
import type { Quote } from "./types.ts";

/** A symbol the simulation knows: its starting price and daily volatility. */
export interface SimulatedAsset {
  symbol: string;
  /** Starting price. */
  price: number;
  /** Daily volatility as a fraction (0.04 = 4 %). */
  volatility: number;
  /** Typical 24 h volume in the base currency. */
  volume: number;
}

/** The default universe: ten well-known pairs with plausible figures. */
export const DEFAULT_ASSETS: readonly SimulatedAsset[] = [
  { symbol: "BTC-USD", price: 67_000, volatility: 0.03, volume: 28_000 },
  { symbol: "ETH-USD", price: 3_400, volatility: 0.04, volume: 410_000 },
  { symbol: "SOL-USD", price: 150, volatility: 0.06, volume: 3_100_000 },
  { symbol: "BNB-USD", price: 580, volatility: 0.035, volume: 900_000 },
  { symbol: "XRP-USD", price: 0.52, volatility: 0.05, volume: 1_200_000_000 },
  { symbol: "ADA-USD", price: 0.45, volatility: 0.05, volume: 600_000_000 },
  { symbol: "DOGE-USD", price: 0.15, volatility: 0.07, volume: 5_000_000_000 },
  { symbol: "AVAX-USD", price: 35, volatility: 0.06, volume: 12_000_000 },
  { symbol: "DOT-USD", price: 7, volatility: 0.05, volume: 30_000_000 },
  { symbol: "LINK-USD", price: 15, volatility: 0.055, volume: 25_000_000 },
];

/** Options for {@linkcode createSimulatedMarket}. */
export interface SimulatedMarketOptions {
  /** PRNG seed; the same seed gives the same walk. Default 1. */
  seed?: number;
  /** The assets to simulate. Default {@linkcode DEFAULT_ASSETS}. */
  assets?: readonly SimulatedAsset[];
  /** Clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Fraction of symbols that move on each tick (0–1]. Default 0.6. */
  moveRatio?: number;
}

/** A running simulation. */
export interface SimulatedMarket {
  /** The symbols simulated, in a fixed order. */
  readonly symbols: readonly string[];
  /** Current quotes of every symbol. */
  snapshot(): Quote[];
  /**
   * Advances the walk by `dtMs` of simulated time and returns the quotes that moved.
   * Usually several symbols move; symbols whose rounded price did not change are left out.
   */
  tick(dtMs: number): Quote[];
  /** Continues from stored quotes (a new producer resuming where the last one stopped). */
  restore(quotes: readonly Quote[]): void;
}

const DAY_MS = 86_400_000;

function roundPrice(price: number): number {
  const digits = price >= 1000 ? 2 : price >= 1 ? 4 : 6;
  const f = 10 ** digits;
  return Math.round(price * f) / f;
}

/** Creates a simulated market. */
export function createSimulatedMarket(options: SimulatedMarketOptions = {}): SimulatedMarket {
  const random = seededRandom(options.seed ?? 1);
  const now = options.now ?? Date.now;
  const assets = options.assets ?? DEFAULT_ASSETS;
  const moveRatio = Math.min(1, Math.max(0.01, options.moveRatio ?? 0.6));
  if (assets.length === 0) throw new Error("Cannot create market: no assets given");
  const t0 = now();
  const state = new Map<string, Quote>();
  for (const asset of assets) {
    // Start each symbol a little away from its open so the board shows a change at once.
    const price = roundPrice(asset.price * (1 + gaussian(random) * asset.volatility * 0.3));
    state.set(asset.symbol, makeQuote(asset, price, asset.price, asset.volume, t0));
  }

  function makeQuote(
    asset: SimulatedAsset,
    price: number,
    open: number,
    volume: number,
    ts: number,
  ): Quote {
    const spread = price * 0.0002;
    return {
      symbol: asset.symbol,
      price,
      bid: roundPrice(price - spread / 2),
      ask: roundPrice(price + spread / 2),
      open24h: open,
      change24hPct: Math.round(((price - open) / open) * 10_000) / 100,
      volume24h: Math.round(volume * 100) / 100,
      sources: ["sim"],
      ts,
    };
  }

  return {
    symbols: assets.map((a) => a.symbol),
    snapshot: () => assets.map((a) => ({ ...state.get(a.symbol)! })),
    tick(dtMs: number): Quote[] {
      const ts = now();
      const moved: Quote[] = [];
      const dtDays = Math.max(dtMs, 1) / DAY_MS;
      for (const asset of assets) {
        if (random() >= moveRatio && moved.length > 0) continue;
        const prev = state.get(asset.symbol)!;
        // Geometric Brownian motion step; scaled up so a human sees movement.
        const sigma = asset.volatility * Math.sqrt(dtDays) * 8;
        const next = roundPrice(prev.price * Math.exp(sigma * gaussian(random)));
        if (next === prev.price) continue;
        const traded = asset.volume * dtDays * (0.5 + random());
        const quote = makeQuote(
          asset,
          next,
          prev.open24h,
          prev.volume24h * (1 - dtDays) + traded,
          ts,
        );
        state.set(asset.symbol, quote);
        moved.push({ ...quote });
      }
      return moved;
    },
    restore(quotes: readonly Quote[]): void {
      for (const q of quotes) {
        if (state.has(q.symbol) && Number.isFinite(q.price) && q.price > 0) {
          state.set(q.symbol, { ...q, sources: [...q.sources] });
        }
      }
    },
  };
}
