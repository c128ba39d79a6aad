/**
 * Symbol mapping between our canonical pairs (`BTC-USD`) and each venue's own spelling:
 * Coinbase product ids (`BTC-USD`), Binance stream symbols (`btcusdt`, quoted in USDT, a
 * USD stand-in, so flagged `usdProxy`) and Kraken WebSocket v2 pairs (`BTC/USD`).
 *
 * Only USD pairs of the assets in {@linkcode KNOWN_ASSETS} are known; anything else is
 * refused with an error naming the symbol, so a typo in `PRICE_SYMBOLS` stops the start
 * instead of subscribing to nothing.
 */

/** The exchanges with an adapter in this directory. */
export type VenueId = "coinbase" | "binance" | "kraken";

/** Every {@linkcode VenueId}, in display order. */
export const VENUE_IDS: readonly VenueId[] = ["coinbase", "binance", "kraken"];

/** Where an asset's USD pair is listed. */
export type AssetListing = Readonly<Record<VenueId, boolean>>;

const EVERYWHERE: AssetListing = { coinbase: true, binance: true, kraken: true };

/**
 * The base assets we know, and on which venue each has a USD (Binance: USDT) pair.
 * BNB is not listed on Coinbase; a feed silently leaves out the pairs its venue lacks
 * ({@linkcode mapSymbols} reports them as `unlisted`).
 */
export const KNOWN_ASSETS: Readonly<Record<string, AssetListing>> = {
  BTC: EVERYWHERE,
  ETH: EVERYWHERE,
  SOL: EVERYWHERE,
  BNB: { coinbase: false, binance: true, kraken: true },
  XRP: EVERYWHERE,
  ADA: EVERYWHERE,
  DOGE: EVERYWHERE,
  AVAX: EVERYWHERE,
  DOT: EVERYWHERE,
  LINK: EVERYWHERE,
  LTC: EVERYWHERE,
  BCH: EVERYWHERE,
  ATOM: EVERYWHERE,
  UNI: EVERYWHERE,
  XLM: EVERYWHERE,
  AAVE: EVERYWHERE,
};

/** The ten pairs followed by default (`PRICE_SYMBOLS` unset). */
export const DEFAULT_PRICE_SYMBOLS: readonly string[] = [
  "BTC-USD",
  "ETH-USD",
  "SOL-USD",
  "BNB-USD",
  "XRP-USD",
  "ADA-USD",
  "DOGE-USD",
  "AVAX-USD",
  "DOT-USD",
  "LINK-USD",
];

/** A canonical symbol split in its parts. */
export interface SymbolParts {
  base: string;
  quote: string;
}

const CANONICAL = /^([A-Z0-9]{2,10})-([A-Z]{3,5})$/;

/**
 * Splits a canonical symbol (`BTC-USD`). Throws `Unknown symbol "…": …` for anything
 * that is not a USD pair of a {@linkcode KNOWN_ASSETS} asset.
 */
export function parseSymbol(symbol: string): SymbolParts {
  const match = CANONICAL.exec(symbol);
  if (!match) {
    throw new Error(
      `Unknown symbol "${symbol.slice(0, 40)}": expected BASE-USD in capitals, e.g. BTC-USD`,
    );
  }
  const [, base, quote] = match;
  if (quote !== "USD" || !Object.hasOwn(KNOWN_ASSETS, base)) {
    throw new Error(
      `Unknown symbol "${symbol}": known pairs are ${
        Object.keys(KNOWN_ASSETS).map((b) => `${b}-USD`).join(", ")
      }`,
    );
  }
  return { base, quote };
}

/** Whether {@linkcode parseSymbol} accepts `symbol`. */
export function isKnownSymbol(symbol: string): boolean {
  try {
    parseSymbol(symbol);
    return true;
  } catch {
    return false;
  }
}

/** One canonical symbol as a venue spells it. */
export interface VenueSymbol {
  /** Ours, e.g. `BTC-USD`. */
  canonical: string;
  /** The venue's, e.g. `btcusdt` (Binance streams), `BTC/USD` (Kraken), `BTC-USD` (Coinbase). */
  venueSymbol: string;
  /** Quoted in USDT standing in for USD. */
  usdProxy: boolean;
}

/**
 * The venue's spelling of `canonical`, or `null` when the venue does not list the pair.
 * Throws for an unknown symbol (see {@linkcode parseSymbol}).
 */
export function toVenueSymbol(venue: VenueId, canonical: string): VenueSymbol | null {
  const { base } = parseSymbol(canonical);
  if (!KNOWN_ASSETS[base][venue]) return null;
  switch (venue) {
    case "coinbase":
      return { canonical, venueSymbol: `${base}-USD`, usdProxy: false };
    case "binance":
      return { canonical, venueSymbol: `${base.toLowerCase()}usdt`, usdProxy: true };
    case "kraken":
      return { canonical, venueSymbol: `${base}/USD`, usdProxy: false };
  }
}

/** Canonical symbols mapped for one venue. */
export interface SymbolMap {
  readonly venue: VenueId;
  /** The pairs the venue lists, in the order given. */
  readonly symbols: readonly VenueSymbol[];
  /** Canonical symbols the venue does not list (left out of the feed). */
  readonly unlisted: readonly string[];
  /** The mapping of a venue symbol (case-insensitive), or undefined for one we do not follow. */
  fromVenue(venueSymbol: string): VenueSymbol | undefined;
  /** The mapping of a canonical symbol we follow on this venue. */
  fromCanonical(canonical: string): VenueSymbol | undefined;
}

/**
 * Maps `symbols` for `venue`. Throws for an unknown symbol; duplicates are kept once.
 */
export function mapSymbols(venue: VenueId, symbols: readonly string[]): SymbolMap {
  const mapped: VenueSymbol[] = [];
  const unlisted: string[] = [];
  const byVenue = new Map<string, VenueSymbol>();
  const byCanonical = new Map<string, VenueSymbol>();
  for (const canonical of symbols) {
    if (byCanonical.has(canonical) || unlisted.includes(canonical)) continue;
    const entry = toVenueSymbol(venue, canonical);
    if (!entry) {
      unlisted.push(canonical);
      continue;
    }
    mapped.push(entry);
    byVenue.set(entry.venueSymbol.toLowerCase(), entry);
    byCanonical.set(canonical, entry);
  }
  return {
    venue,
    symbols: mapped,
    unlisted,
    fromVenue: (venueSymbol) => byVenue.get(venueSymbol.toLowerCase()),
    fromCanonical: (canonical) => byCanonical.get(canonical),
  };
}
