/**
 * Builds the venue feeds of `PRICE_SOURCES`: the real exchanges through
 * `createVenueFeed` (lib/prices/venues/mod.ts) and `simulated` as three simulated venues
 * (lib/prices/sim_venues.ts), resumed from the board the previous lease holder left.
 */
import type { FeedContext } from "./engine.ts";
import { createSimulatedVenues } from "./sim_venues.ts";
import { createVenueFeed, type PriceSourceName, type VenueId } from "./venues/mod.ts";
import type { VenueFeed } from "./venues/types.ts";

/** Options for {@linkcode createPriceFeeds}. */
export interface PriceFeedsOptions {
  sources: readonly PriceSourceName[];
  symbols: readonly string[];
  /** Each real venue's WebSocket URL. */
  urls: Readonly<Record<VenueId, string>>;
  /** Seed of the simulated venues (`MARKET_SEED`). */
  seed: number;
  /** Step interval of the simulated venues, ms (`MARKET_TICK_MS`). */
  stepMs: number;
  now?: () => number;
  log?: { warn(msg: string, fields?: Record<string, unknown>): void };
}

/** The feeds (not started) of every configured source. */
export function createPriceFeeds(options: PriceFeedsOptions, ctx: FeedContext): VenueFeed[] {
  const feeds: VenueFeed[] = [];
  for (const source of options.sources) {
    if (source === "simulated") {
      const sim = createSimulatedVenues({
        symbols: options.symbols,
        seed: options.seed,
        stepMs: options.stepMs,
        now: options.now,
        onEvent: ctx.onEvent,
      });
      if (ctx.board) sim.restore(Object.values(ctx.board.quotes));
      feeds.push(...sim.feeds);
    } else {
      feeds.push(createVenueFeed(source, {
        symbols: options.symbols,
        url: options.urls[source],
        onEvent: ctx.onEvent,
        now: options.now,
        log: options.log,
      }));
    }
  }
  return feeds;
}
