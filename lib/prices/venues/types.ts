/**
 * The contract between venue adapters (one module per exchange in this directory, plus the
 * simulated venues) and the aggregator (lib/prices/aggregate.ts). Symbols are canonical
 * (`BTC-USD`); every number is a finite JS number (adapters parse venues' decimal strings).
 */

/** A venue's name: `coinbase`, `binance`, `kraken`, or a simulated venue (`sim-a`, …). */
export type VenueName = string;

/** Best price / 24 h statistics of one symbol on one venue. */
export interface VenueTicker {
  kind: "ticker";
  venue: VenueName;
  /** Canonical symbol, e.g. `BTC-USD`. */
  symbol: string;
  /** Last trade price. */
  price: number;
  bid?: number;
  ask?: number;
  /** The venue's rolling 24 h figures, when it sends them (base-currency volume). */
  open24h?: number;
  high24h?: number;
  low24h?: number;
  volume24h?: number;
  /** The venue's event time, ms since the epoch (receive time when it sends none). */
  ts: number;
  /** When we received it (our clock). */
  receivedAt: number;
  /** Quoted in USDT (or another stablecoin) standing in for USD. */
  usdProxy: boolean;
}

/** One trade on one venue. */
export interface VenueTrade {
  kind: "trade";
  venue: VenueName;
  symbol: string;
  price: number;
  /** Base-currency amount, > 0. */
  size: number;
  side?: "buy" | "sell";
  /** The venue's trade id (as a string), for gap detection and de-duplication. */
  tradeId: string;
  ts: number;
  receivedAt: number;
  usdProxy: boolean;
}

/**
 * A symbol on a venue became stale (gap in the venue's sequence, quiet while others
 * flow, transport down: `disconnected`) or fresh again (a snapshot arrived: `snapshot`;
 * data arrived on a new subscription after a (re)connect: `resubscribed`; data resumed on a
 * symbol that was only quiet: `resumed`). After a gap only a snapshot makes it fresh.
 */
export interface VenueSymbolState {
  kind: "symbol";
  venue: VenueName;
  symbol: string;
  state: "stale" | "fresh";
  reason: "gap" | "quiet" | "resubscribed" | "snapshot" | "disconnected" | "resumed";
  at: number;
}

/** The venue's transport went up or down. */
export interface VenueConnection {
  kind: "connection";
  venue: VenueName;
  connected: boolean;
  reason?: string;
  at: number;
}

/** Everything an adapter reports. */
export type VenueEvent = VenueTicker | VenueTrade | VenueSymbolState | VenueConnection;

/** A venue's health, for `GET /api/sources` and the overview. */
export interface VenueHealth {
  venue: VenueName;
  connected: boolean;
  /** When the last message of any kind arrived, ms since the epoch; null before the first. */
  lastMessageAt: number | null;
  /** Successful reconnects since start. */
  reconnects: number;
  /** Sequence gaps detected. */
  gaps: number;
  /** Inbound messages that failed validation (dropped). */
  malformed: number;
  /** Inbound messages accepted. */
  messages: number;
  /** Canonical symbols configured on this venue. */
  symbols: string[];
  /** Of those, the ones currently stale. */
  staleSymbols: string[];
  /** Quotes in a USD stand-in (USDT). */
  usdProxy: boolean;
}

/** A running venue feed. */
export interface VenueFeed {
  readonly venue: VenueName;
  /** Connects (and keeps reconnecting) until {@linkcode VenueFeed.stop}. */
  start(): void;
  /** Closes the socket(s) and timers; resolves when nothing is left running. */
  stop(): Promise<void>;
  health(): VenueHealth;
}

/** The minimal WebSocket an adapter needs (the Web `WebSocket`, or a test double). */
export interface VenueSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
}

/** What every adapter is given. */
export interface VenueFeedOptions {
  /** Canonical symbols to follow. */
  symbols: readonly string[];
  /** The venue's WebSocket base URL (default: its public endpoint). */
  url?: string;
  /** Receives every event, synchronously, in arrival order. */
  onEvent: (event: VenueEvent) => void;
  /** Clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Opens a socket. Default `(url) => new WebSocket(url)`. */
  connect?: (url: string) => VenueSocket;
  /** Random source in [0, 1) for backoff jitter. Default `Math.random`. */
  random?: () => number;
  /** Warnings (malformed messages are counted, and logged at most once per minute). */
  log?: { warn(msg: string, fields?: Record<string, unknown>): void };
  /** Timing overrides, for tests. */
  timing?: Partial<VenueTiming>;
}

/** Timers of an adapter, ms. */
export interface VenueTiming {
  /** Transport silent this long → reconnect. Default 5 000. */
  silentMs: number;
  /** One symbol quiet this long while others flow → stale. Default 60 000. */
  symbolQuietMs: number;
  /** Reconnect backoff: full jitter in [0, min(maxMs, baseMs · 2^attempt)]. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Opening handshake / subscribe acknowledgement deadline. Default 10 000. */
  connectTimeoutMs: number;
}

/** The default timing. */
export const DEFAULT_VENUE_TIMING: VenueTiming = {
  silentMs: 5_000,
  symbolQuietMs: 60_000,
  backoffBaseMs: 500,
  backoffMaxMs: 30_000,
  connectTimeoutMs: 10_000,
};
