/**
 * Binance spot market streams (`wss://stream.binance.com:9443`): one combined-stream
 * connection `/stream?streams=btcusdt@ticker/btcusdt@aggTrade/btcusdt@bookTicker/…`,
 * every event wrapped as `{"stream":"<name>","data":<payload>}`, numbers as strings.
 * USD pairs are followed through their USDT market and flagged `usdProxy`.
 *
 * Protocol (developers.binance.com, "WebSocket Streams for Binance"):
 * - the server sends a ping frame every 20 s and drops a connection that does not pong
 *   within a minute. The Web `WebSocket` (Deno, browsers) answers ping control frames
 *   itself, so nothing here handles them;
 * - a connection lives at most 24 h: we rotate after 23 h 30 min, make-before-break;
 * - a `serverShutdown` event announces a disconnection: we rotate at once, the same way;
 * - at most 5 incoming messages per second per connection (pings, pongs, JSON requests):
 *   we send at most 3 (the runtime's pongs take part of the budget);
 * - live `SUBSCRIBE` / `UNSUBSCRIBE` requests are answered `{"result":null,"id":…}`.
 *
 * Gaps: aggregate trade ids (`a`) of a symbol are consecutive, so a skipped id marks the
 * symbol stale and resubscribes its streams; the first `@ticker` (a full 24 h state)
 * after the resubscription acknowledgement makes it fresh again.
 *
 * During a rotation both connections deliver: trades are merged in id order (an id
 * already emitted is dropped, one ahead of the next expected waits until the older
 * connection fills the hole), tickers are de-duplicated by event time and book tickers
 * by update id, so nothing is lost and nothing is emitted twice. The new connection takes
 * over once it has delivered a ticker for every symbol and no trade waits.
 */
import { z } from "zod";
import {
  createFeed,
  type FeedConnection,
  type FeedContext,
  type TradeFields,
  type VenueProtocol,
} from "./feed_core.ts";
import type { VenueFeed, VenueFeedOptions } from "./types.ts";
import type { VenueSymbol } from "./symbols.ts";
import { hasKey, issue, optionalPositiveDecimal, positiveDecimal, venueSymbol } from "./wire.ts";

/** The public market-data endpoint. */
export const BINANCE_WS_URL = "wss://stream.binance.com:9443";
/** Outbound messages per second (Binance allows 5 per connection, pongs included). */
export const BINANCE_SENDS_PER_SECOND = 3;
/** Connection age at which we rotate, before Binance's 24 h cut. */
export const BINANCE_ROTATE_AFTER_MS = 23.5 * 3_600_000;
/** Trades held per symbol while a rotation merges two connections. */
const MAX_PENDING = 2_000;
/** Outstanding SUBSCRIBE/UNSUBSCRIBE requests remembered per connection. */
const MAX_REQUESTS = 100;

/** Options of the Binance feed. */
export interface BinanceFeedOptions extends VenueFeedOptions {
  /** Rotate (make-before-break) once a connection is this old, ms. Default 23 h 30 min. */
  rotateAfterMs?: number;
}

const STREAM_KINDS = ["ticker", "aggTrade", "bookTicker"] as const;

/** The streams of one symbol (`btcusdt@ticker`, …). */
export function binanceStreams(venueSymbol: string): string[] {
  return STREAM_KINDS.map((kind) => `${venueSymbol}@${kind}`);
}

/**
 * The combined-stream URL for `venueSymbols` under `base` (`/stream` is appended unless
 * the path already ends with it).
 */
export function binanceStreamUrl(base: string, venueSymbols: readonly string[]): string {
  const url = new URL(base);
  let path = url.pathname.replace(/\/+$/, "");
  if (!path.endsWith("/stream")) path += "/stream";
  const streams = venueSymbols.flatMap(binanceStreams);
  return `${url.protocol}//${url.host}${path}?streams=${streams.join("/")}`;
}

const Combined = z.object({ stream: z.string().max(128), data: z.unknown() });

const Ticker = z.object({
  e: z.literal("24hrTicker"),
  E: z.number().int().nonnegative(),
  s: venueSymbol,
  c: positiveDecimal,
  b: optionalPositiveDecimal,
  a: optionalPositiveDecimal,
  o: optionalPositiveDecimal,
  h: optionalPositiveDecimal,
  l: optionalPositiveDecimal,
  v: optionalPositiveDecimal,
});

const AggTrade = z.object({
  e: z.literal("aggTrade"),
  E: z.number().int().nonnegative(),
  s: venueSymbol,
  a: z.number().int().nonnegative(),
  p: positiveDecimal,
  q: positiveDecimal,
  T: z.number().int().nonnegative(),
  m: z.boolean(),
});

const BookTicker = z.object({
  u: z.number().int().nonnegative(),
  s: venueSymbol,
  b: optionalPositiveDecimal,
  a: optionalPositiveDecimal,
});

const Shutdown = z.object({ e: z.literal("serverShutdown"), E: z.number().int().optional() });

const Response = z.object({
  result: z.unknown(),
  id: z.union([z.number().int(), z.string().max(36), z.null()]),
});

const ErrorResponse = z.object({
  code: z.number().int(),
  msg: z.string().max(500),
  id: z.union([z.number().int(), z.string().max(36), z.null()]).optional(),
});

interface TradeSeq {
  /** Last aggregate trade id emitted; null before the first (or after a resubscribe). */
  last: number | null;
  /** Trades ahead of `last + 1` held during a rotation, by id. */
  pending: Map<number, TradeFields>;
}

interface ConnState {
  /** Symbols whose `@ticker` this connection has delivered. */
  tickerSeen: Set<string>;
  /** Symbols resubscribed and not yet acknowledged. */
  resubscribing: Set<string>;
  /** Outstanding requests by id. */
  requests: Map<number, { kind: "subscribe" | "unsubscribe"; symbols: string[] }>;
}

/** `{"e":"serverShutdown",…}`, bare or wrapped in `{"event":…}` as the docs show it. */
function isShutdown(message: unknown): boolean {
  const inner = hasKey(message, "event") ? message.event : message;
  return hasKey(inner, "e") && inner.e === "serverShutdown" && Shutdown.safeParse(inner).success;
}

function binanceProtocol(ctx: FeedContext, base: string): VenueProtocol {
  const seq = new Map<string, TradeSeq>();
  const lastTickerAt = new Map<string, number>();
  const lastBookId = new Map<string, number>();
  const lastPrice = new Map<string, number>();
  const book = new Map<string, { bid?: number; ask?: number }>();
  const connStates = new Map<number, ConnState>();
  let requestId = 0;

  function connState(conn: FeedConnection): ConnState {
    let state = connStates.get(conn.id);
    if (!state) {
      state = { tickerSeen: new Set(), resubscribing: new Set(), requests: new Map() };
      connStates.set(conn.id, state);
    }
    return state;
  }

  function seqOf(entry: VenueSymbol): TradeSeq {
    let s = seq.get(entry.canonical);
    if (!s) {
      s = { last: null, pending: new Map() };
      seq.set(entry.canonical, s);
    }
    return s;
  }

  function emitTrade(entry: VenueSymbol, s: TradeSeq, id: number, fields: TradeFields): void {
    s.last = id;
    lastPrice.set(entry.canonical, fields.price);
    ctx.trade(entry, fields);
  }

  function drain(entry: VenueSymbol, s: TradeSeq): void {
    while (s.last !== null && s.pending.has(s.last + 1)) {
      const id = s.last + 1;
      const fields = s.pending.get(id)!;
      s.pending.delete(id);
      emitTrade(entry, s, id, fields);
    }
  }

  /** Emits every held trade in id order; a hole left is a gap (when a connection remains). */
  function flushPending(): void {
    const gapped: VenueSymbol[] = [];
    for (const entry of ctx.symbols.symbols) {
      const s = seq.get(entry.canonical);
      if (!s || s.pending.size === 0) continue;
      const ids = [...s.pending.keys()].sort((a, b) => a - b);
      let holed = false;
      for (const id of ids) {
        const fields = s.pending.get(id)!;
        if (s.last !== null && id <= s.last) continue;
        if (s.last !== null && id > s.last + 1) holed = true;
        emitTrade(entry, s, id, fields);
      }
      s.pending.clear();
      if (holed) gapped.push(entry);
    }
    const primary = ctx.primary();
    if (gapped.length > 0 && primary) {
      ctx.gap(primary, gapped, "aggTrade ids skipped across a rotation");
    }
  }

  function onAggTrade(conn: FeedConnection, entry: VenueSymbol, data: unknown): string | undefined {
    const parsed = AggTrade.safeParse(data);
    if (!parsed.success) return `aggTrade ${issue(parsed.error)}`;
    const t = parsed.data;
    const fields: TradeFields = {
      price: t.p,
      size: t.q,
      // m: "is the buyer the market maker?" — then the taker sold.
      side: t.m ? "sell" : "buy",
      tradeId: String(t.a),
      ts: t.T,
    };
    const s = seqOf(entry);
    if (s.last === null || t.a === s.last + 1) {
      emitTrade(entry, s, t.a, fields);
      drain(entry, s);
    } else if (t.a <= s.last) {
      // Already emitted (the other connection of a rotation delivered it first).
    } else if (ctx.connectionCount() > 1) {
      s.pending.set(t.a, fields);
      if (s.pending.size > MAX_PENDING) flushPending();
    } else {
      ctx.gap(conn, [entry], `aggTrade id ${s.last} → ${t.a}`);
      emitTrade(entry, s, t.a, fields);
    }
  }

  function onTicker(conn: FeedConnection, entry: VenueSymbol, data: unknown): string | undefined {
    const parsed = Ticker.safeParse(data);
    if (!parsed.success) return `ticker ${issue(parsed.error)}`;
    const t = parsed.data;
    const state = connState(conn);
    state.tickerSeen.add(entry.canonical);
    const previous = lastTickerAt.get(entry.canonical);
    if (previous !== undefined && t.E <= previous) return undefined; // delivered by the other connection
    lastTickerAt.set(entry.canonical, t.E);
    lastPrice.set(entry.canonical, t.c);
    book.set(entry.canonical, { bid: t.b, ask: t.a });
    ctx.ticker(entry, {
      price: t.c,
      bid: t.b,
      ask: t.a,
      open24h: t.o,
      high24h: t.h,
      low24h: t.l,
      volume24h: t.v,
      ts: t.E,
    }, !state.resubscribing.has(entry.canonical));
  }

  function onBookTicker(entry: VenueSymbol, data: unknown): string | undefined {
    const parsed = BookTicker.safeParse(data);
    if (!parsed.success) return `bookTicker ${issue(parsed.error)}`;
    const t = parsed.data;
    const previous = lastBookId.get(entry.canonical);
    if (previous !== undefined && t.u <= previous) return undefined;
    lastBookId.set(entry.canonical, t.u);
    const before = book.get(entry.canonical);
    if (before && before.bid === t.b && before.ask === t.a) return undefined; // only sizes moved
    book.set(entry.canonical, { bid: t.b, ask: t.a });
    const price = lastPrice.get(entry.canonical);
    if (price === undefined) return undefined;
    ctx.ticker(entry, { price, bid: t.b, ask: t.a, ts: ctx.now() });
  }

  function onStream(conn: FeedConnection, stream: string, data: unknown): string | undefined {
    if (isShutdown(data)) {
      ctx.rotate("serverShutdown");
      return undefined;
    }
    const at = stream.indexOf("@");
    if (at <= 0) return "stream name without @";
    const entry = ctx.symbols.fromVenue(stream.slice(0, at));
    if (!entry) return undefined; // a stream we did not ask for: ignore
    if (hasKey(data, "s") && String(data.s).toLowerCase() !== entry.venueSymbol) {
      return `stream ${stream} carries symbol ${String(data.s).slice(0, 32)}`;
    }
    const kind = stream.slice(at + 1);
    let reason: string | undefined;
    if (kind === "ticker") reason = onTicker(conn, entry, data);
    else if (kind === "aggTrade") reason = onAggTrade(conn, entry, data);
    else if (kind === "bookTicker") reason = onBookTicker(entry, data);
    else return undefined;
    if (reason !== undefined) return reason;
    ctx.ack(conn);
    maybePromote(conn);
    return undefined;
  }

  function maybePromote(conn: FeedConnection): void {
    if (ctx.isPrimary(conn) || ctx.connectionCount() < 2) return;
    if (connState(conn).tickerSeen.size < ctx.symbols.symbols.length) return;
    for (const s of seq.values()) if (s.pending.size > 0) return;
    ctx.promote(conn);
  }

  function onResponse(conn: FeedConnection, message: unknown): string | undefined {
    const parsed = Response.safeParse(message);
    if (!parsed.success) return `response ${issue(parsed.error)}`;
    const { id, result } = parsed.data;
    if (result !== null) {
      ctx.warn("response", "Binance answered a request with a result", { id });
    }
    if (typeof id !== "number") return undefined;
    const state = connState(conn);
    const request = state.requests.get(id);
    if (!request) return undefined;
    state.requests.delete(id);
    if (request.kind === "subscribe") {
      for (const symbol of request.symbols) {
        state.resubscribing.delete(symbol);
        const s = seq.get(symbol);
        if (s) {
          // A new baseline: the ids skipped while resubscribing are not a new gap.
          s.last = null;
          s.pending.clear();
        }
      }
    }
    return undefined;
  }

  function request(
    conn: FeedConnection,
    method: "SUBSCRIBE" | "UNSUBSCRIBE",
    entries: readonly VenueSymbol[],
  ): void {
    const state = connState(conn);
    const id = ++requestId;
    state.requests.set(id, {
      kind: method === "SUBSCRIBE" ? "subscribe" : "unsubscribe",
      symbols: entries.map((e) => e.canonical),
    });
    if (state.requests.size > MAX_REQUESTS) {
      state.requests.delete(state.requests.keys().next().value!);
    }
    conn.send({ method, params: entries.flatMap((e) => binanceStreams(e.venueSymbol)), id });
  }

  return {
    sendsPerSecond: BINANCE_SENDS_PER_SECOND,
    url: () => binanceStreamUrl(base, ctx.symbols.symbols.map((s) => s.venueSymbol)),
    onOpen(conn) {
      connState(conn);
    },
    onMessage(conn, message) {
      if (hasKey(message, "stream")) {
        const parsed = Combined.safeParse(message);
        if (!parsed.success) return issue(parsed.error);
        return onStream(conn, parsed.data.stream, parsed.data.data);
      }
      if (isShutdown(message)) {
        ctx.rotate("serverShutdown");
        return undefined;
      }
      if (hasKey(message, "result") && hasKey(message, "id")) return onResponse(conn, message);
      if (hasKey(message, "code")) {
        const parsed = ErrorResponse.safeParse(message);
        if (!parsed.success) return `error ${issue(parsed.error)}`;
        ctx.warn("error", "Binance sent an error", {
          code: parsed.data.code,
          msg: parsed.data.msg,
        });
        return undefined;
      }
      return "not a combined-stream event, response or serverShutdown";
    },
    onClose(conn) {
      connStates.delete(conn.id);
      const left = ctx.connectionCount();
      if (left === 1) {
        flushPending();
      } else if (left === 0) {
        // A new connection after a disconnect starts new baselines: what was missed while
        // down is already signalled by the symbols going stale (disconnected).
        for (const s of seq.values()) {
          s.last = null;
          s.pending.clear();
        }
      }
    },
    resubscribe(conn, entries) {
      const state = connState(conn);
      for (const entry of entries) state.resubscribing.add(entry.canonical);
      request(conn, "UNSUBSCRIBE", entries);
      request(conn, "SUBSCRIBE", entries);
    },
  };
}

/** Follows `options.symbols` on Binance spot (USDT markets). Throws for an unknown symbol. */
export function createBinanceFeed(options: BinanceFeedOptions): VenueFeed {
  const base = options.url ?? BINANCE_WS_URL;
  return createFeed({
    venue: "binance",
    options,
    rotateAfterMs: options.rotateAfterMs ?? BINANCE_ROTATE_AFTER_MS,
    protocol: (ctx) => binanceProtocol(ctx, base),
  });
}
