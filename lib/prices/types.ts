/** One symbol's current price, as shown on the board and sent on `prices:{SYMBOL}`. */
export interface Quote {
  /** Trading pair, e.g. `BTC-USD`. */
  symbol: string;
  /** Last price in the quote currency. */
  price: number;
  /** Best bid, when known. */
  bid: number;
  /** Best ask, when known. */
  ask: number;
  /** Price 24 h ago (the simulated session's open), for the change figure. */
  open24h: number;
  /** Change since `open24h`, in percent. */
  change24hPct: number;
  /** Traded volume over the last 24 h, in the base currency. */
  volume24h: number;
  /** Where the price came from (`sim` for the simulated market). */
  sources: string[];
  /** Milliseconds since the epoch when this quote was produced. */
  ts: number;
}

/** Every symbol's latest quote, stored as one KV value and watched by every isolate. */
export interface PriceBoard {
  /** Increases by one with every write. */
  seq: number;
  /** When the board was written (ms since the epoch). */
  ts: number;
  /** Latest quote per symbol. */
  quotes: Record<string, Quote>;
}

/** The channel that carries one symbol's quotes. */
export function priceChannel(symbol: string): string {
  return `prices:${symbol}`;
}

/** The symbol carried by a `prices:` channel, or `undefined` for any other channel. */
export function symbolOfChannel(channel: string): string | undefined {
  return channel.startsWith("prices:") ? channel.slice("prices:".length) : undefined;
}
