/**
 * Prices: venue events aggregated into quotes (aggregate), candles, the market overview,
 * the simulated venues, the engine that runs them under the `market` lease, the KV price
 * board every isolate watches, the HTTP answers built on them, and the users' watchlists.
 * The browser side (islands' stores, formatting for the page) is `./ui/mod.ts`.
 *
 * @module
 */
export * from "./types.ts";
export * from "./simulated.ts";
export * from "./store.ts";
export * from "./producer.ts";
export * from "./format.ts";
export * from "./aggregate.ts";
export * from "./candles.ts";
export * from "./overview.ts";
export * from "./sim_venues.ts";
export * from "./engine.ts";
export * from "./sources.ts";
export * from "./http.ts";
export * from "./watchlist.ts";
