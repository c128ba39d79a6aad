/**
 * The browser side of prices, used by the islands: per-symbol quote signals written once
 * per frame, the board's order and filter, the watchlist, candle merging for the live
 * chart, sparklines, validation of what arrives, and the hooks over the page client.
 *
 * @module
 */
export * from "./board.ts";
export * from "./candles_api.ts";
export * from "./chart_ranges.ts";
export * from "./hooks.ts";
export * from "./live_candles.ts";
export * from "./live_text.ts";
export * from "./overview.ts";
export * from "./quote_store.ts";
export * from "./sparkline.ts";
export * from "./validate.ts";
export * from "./watchlist_client.ts";
