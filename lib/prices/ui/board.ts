/**
 * The board's ordering and filtering, pure: which rows show, in which order. The order
 * is computed when the reader asks for it (a header click, a filter change), not on every
 * tick, so rows never jump under the pointer while prices move.
 *
 * @module
 */
import { baseAsset } from "../format.ts";
import type { Quote } from "../types.ts";

/** Columns the board sorts by. */
export type SortKey = "name" | "price" | "change" | "volume";

/** A sort order: a column and a direction. */
export interface SortOrder {
  key: SortKey;
  dir: "asc" | "desc";
}

/** Every {@linkcode SortKey}. */
export const SORT_KEYS: readonly SortKey[] = ["name", "price", "change", "volume"];

/** Full names of the assets the app knows (the name column, its sort and the filter use them). */
export const ASSET_NAMES: Readonly<Record<string, string>> = {
  BTC: "Bitcoin",
  ETH: "Ethereum",
  SOL: "Solana",
  BNB: "BNB",
  XRP: "XRP",
  ADA: "Cardano",
  DOGE: "Dogecoin",
  AVAX: "Avalanche",
  DOT: "Polkadot",
  LINK: "Chainlink",
  LTC: "Litecoin",
  BCH: "Bitcoin Cash",
  ATOM: "Cosmos",
  UNI: "Uniswap",
  XLM: "Stellar",
  AAVE: "Aave",
};

/** The asset's full name (`BTC-USD` → `Bitcoin`), or its ticker when unknown. */
export function assetName(symbol: string): string {
  const base = baseAsset(symbol);
  return ASSET_NAMES[base] ?? base;
}

/** 24 h volume in the quote currency (base volume × price), the comparable figure. */
export function quoteVolume(q: Quote): number {
  return q.volume24h * q.price;
}

/** The direction a column sorts in first: names A→Z, numbers largest first. */
export function defaultDirection(key: SortKey): "asc" | "desc" {
  return key === "name" ? "asc" : "desc";
}

/** The order after a click on `key`'s header: a new column starts in its default direction. */
export function nextOrder(current: SortOrder | null, key: SortKey): SortOrder {
  if (current?.key === key) return { key, dir: current.dir === "asc" ? "desc" : "asc" };
  return { key, dir: defaultDirection(key) };
}

function value(key: SortKey, q: Quote | undefined): number | null {
  if (!q) return null;
  switch (key) {
    case "price":
      return q.price;
    case "change":
      return q.change24hPct;
    case "volume":
      return quoteVolume(q);
    default:
      return null;
  }
}

/**
 * `symbols` in `order` (null: as given). Rows without a quote go last; ties keep the
 * given order (the sort is stable).
 */
export function sortSymbols(
  symbols: readonly string[],
  quotes: (symbol: string) => Quote | undefined,
  order: SortOrder | null,
): string[] {
  if (!order) return [...symbols];
  const sign = order.dir === "asc" ? 1 : -1;
  const indexed = symbols.map((symbol, index) => ({
    symbol,
    index,
    name: order.key === "name" ? assetName(symbol) : "",
    value: value(order.key, quotes(symbol)),
  }));
  indexed.sort((a, b) => {
    if (order.key === "name") return sign * a.name.localeCompare(b.name) || a.index - b.index;
    if (a.value === null || b.value === null) {
      return (a.value === null ? 1 : 0) - (b.value === null ? 1 : 0) || a.index - b.index;
    }
    return sign * (a.value - b.value) || a.index - b.index;
  });
  return indexed.map((e) => e.symbol);
}

/** Longest filter text considered. */
export const MAX_FILTER_LENGTH = 40;

/**
 * Whether `symbol` matches the filter text: case-insensitive, on the pair (`btc-usd`,
 * `btc usd`, `btc/usd`) or the asset's name (`bitcoin`). Empty text matches all.
 */
export function matchesFilter(symbol: string, text: string): boolean {
  const query = text.trim().slice(0, MAX_FILTER_LENGTH).toLowerCase().replace(/[\s/_]+/g, "-");
  if (!query) return true;
  return symbol.toLowerCase().includes(query) || assetName(symbol).toLowerCase().includes(query);
}

/** The rows to show: filtered by text, then by the watchlist when `onlyWatched`, then sorted. */
export function visibleSymbols(
  symbols: readonly string[],
  quotes: (symbol: string) => Quote | undefined,
  options: {
    order: SortOrder | null;
    filter: string;
    watched: ReadonlySet<string>;
    onlyWatched: boolean;
  },
): string[] {
  const shown = symbols.filter((s) =>
    matchesFilter(s, options.filter) && (!options.onlyWatched || options.watched.has(s))
  );
  return sortSymbols(shown, quotes, options.order);
}
