/**
 * Exchange feeds: one adapter per venue speaking its public market-data WebSocket
 * protocol, all reporting {@linkcode VenueEvent}s, plus the configuration helper that
 * reads `PRICE_SOURCES`, `PRICE_SYMBOLS` and the venues' URLs.
 *
 * @module
 */
import { BINANCE_WS_URL, type BinanceFeedOptions, createBinanceFeed } from "./binance.ts";
import { COINBASE_WS_URL, createCoinbaseFeed } from "./coinbase.ts";
import { createKrakenFeed, KRAKEN_WS_URL } from "./kraken.ts";
import { DEFAULT_PRICE_SYMBOLS, parseSymbol, VENUE_IDS, type VenueId } from "./symbols.ts";
import type { VenueFeed } from "./types.ts";

export * from "./types.ts";
export {
  DEFAULT_PRICE_SYMBOLS,
  isKnownSymbol,
  KNOWN_ASSETS,
  mapSymbols,
  parseSymbol,
  toVenueSymbol,
  VENUE_IDS,
  type VenueId,
  type VenueSymbol,
} from "./symbols.ts";
export { backoffDelay, MAX_MESSAGE_BYTES } from "./feed_core.ts";
export { BINANCE_WS_URL, type BinanceFeedOptions, binanceStreamUrl } from "./binance.ts";
export { COINBASE_WS_URL } from "./coinbase.ts";
export { KRAKEN_WS_URL } from "./kraken.ts";

/** Each venue's public endpoint, the default of its `*_WS_URL` variable. */
export const DEFAULT_VENUE_URLS: Readonly<Record<VenueId, string>> = {
  coinbase: COINBASE_WS_URL,
  binance: BINANCE_WS_URL,
  kraken: KRAKEN_WS_URL,
};

/** The environment variable of each venue's URL. */
export const VENUE_URL_ENV: Readonly<Record<VenueId, string>> = {
  coinbase: "COINBASE_WS_URL",
  binance: "BINANCE_WS_URL",
  kraken: "KRAKEN_WS_URL",
};

/** Options of {@linkcode createVenueFeed} (Binance also takes `rotateAfterMs`). */
export type CreateVenueFeedOptions = BinanceFeedOptions;

/**
 * Creates the feed of one venue (not started: call `start()`). Throws for an unknown
 * symbol; pairs the venue does not list are left out (see `health().symbols`).
 */
export function createVenueFeed(name: VenueId, options: CreateVenueFeedOptions): VenueFeed {
  switch (name) {
    case "coinbase":
      return createCoinbaseFeed(options);
    case "binance":
      return createBinanceFeed(options);
    case "kraken":
      return createKrakenFeed(options);
    default:
      throw new Error(`Cannot create venue feed: unknown venue "${String(name).slice(0, 40)}"`);
  }
}

/** A price source: a real venue, or `simulated` (the offline market). */
export type PriceSourceName = VenueId | "simulated";

/** Every accepted {@linkcode PriceSourceName}. */
export const PRICE_SOURCE_NAMES: readonly PriceSourceName[] = [...VENUE_IDS, "simulated"];

/** The price-source configuration, defaults applied. */
export interface PriceSourceConfig {
  /** `PRICE_SOURCES`: comma list of sources, in the order given. Default `simulated`. */
  sources: PriceSourceName[];
  /** `COINBASE_WS_URL`, `BINANCE_WS_URL`, `KRAKEN_WS_URL`. Default: the public endpoints. */
  urls: Record<VenueId, string>;
  /** `PRICE_SYMBOLS`: canonical pairs. Default the ten of {@linkcode DEFAULT_PRICE_SYMBOLS}. */
  symbols: string[];
}

/** Reads what {@linkcode parsePriceSources} needs from the environment. */
export interface PriceEnvReader {
  get(name: string): string | undefined;
}

/** Longest value accepted for any of the variables. */
const MAX_VALUE_CHARS = 4_096;
/** Most symbols `PRICE_SYMBOLS` may list. */
export const MAX_PRICE_SYMBOLS = 64;

function list(name: string, raw: string): string[] {
  if (raw.length > MAX_VALUE_CHARS) {
    throw new Error(`Cannot read ${name}: longer than ${MAX_VALUE_CHARS} characters`);
  }
  return raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/**
 * Checks a venue URL: `ws:` or `wss:`, no credentials, bounded. Returns it unchanged or
 * throws `Cannot read <variable>: …` (the value is echoed only when it carries no
 * credentials).
 */
export function validateVenueUrl(variable: string, raw: string): string {
  if (raw.length > 2_048) throw new Error(`Cannot read ${variable}: longer than 2048 characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`Cannot read ${variable}: expected a ws:// or wss:// URL, got "${raw}"`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new Error(`Cannot read ${variable}: the URL must not carry credentials`);
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new Error(`Cannot read ${variable}: expected a ws:// or wss:// URL, got "${raw}"`);
  }
  if (url.hash !== "") {
    throw new Error(`Cannot read ${variable}: the URL must not have a #fragment`);
  }
  return raw;
}

/** Parses `PRICE_SYMBOLS`' value; throws `Cannot read PRICE_SYMBOLS: …`. */
export function parsePriceSymbols(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === "") return [...DEFAULT_PRICE_SYMBOLS];
  const symbols: string[] = [];
  for (const item of list("PRICE_SYMBOLS", raw)) {
    const symbol = item.toUpperCase();
    try {
      parseSymbol(symbol);
    } catch (err) {
      throw new Error(`Cannot read PRICE_SYMBOLS: ${(err as Error).message}`);
    }
    if (!symbols.includes(symbol)) symbols.push(symbol);
  }
  if (symbols.length > MAX_PRICE_SYMBOLS) {
    throw new Error(`Cannot read PRICE_SYMBOLS: more than ${MAX_PRICE_SYMBOLS} symbols`);
  }
  return symbols;
}

/**
 * Reads `PRICE_SOURCES`, `PRICE_SYMBOLS`, `COINBASE_WS_URL`, `BINANCE_WS_URL` and
 * `KRAKEN_WS_URL`. A bad value throws an Error whose message names the variable
 * (`Cannot read PRICE_SOURCES: unknown source "bitstamp"; …`). URLs are checked even
 * when their venue is not among the sources.
 */
export function parsePriceSources(env: PriceEnvReader): PriceSourceConfig {
  const rawSources = env.get("PRICE_SOURCES") ?? "";
  const sources: PriceSourceName[] = [];
  for (const item of list("PRICE_SOURCES", rawSources)) {
    const name = item.toLowerCase();
    if (!(PRICE_SOURCE_NAMES as readonly string[]).includes(name)) {
      throw new Error(
        `Cannot read PRICE_SOURCES: unknown source "${
          item.slice(0, 40)
        }"; expected a comma list of ${PRICE_SOURCE_NAMES.join(", ")}`,
      );
    }
    if (!sources.includes(name as PriceSourceName)) sources.push(name as PriceSourceName);
  }
  if (sources.length === 0) sources.push("simulated");
  const urls = { ...DEFAULT_VENUE_URLS };
  for (const venue of VENUE_IDS) {
    const raw = env.get(VENUE_URL_ENV[venue]);
    if (raw !== undefined && raw.trim() !== "") {
      urls[venue] = validateVenueUrl(VENUE_URL_ENV[venue], raw.trim());
    }
  }
  return { sources, urls, symbols: parsePriceSymbols(env.get("PRICE_SYMBOLS")) };
}
