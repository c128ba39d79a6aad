/**
 * Kraken spot WebSocket v2 (`wss://ws.kraken.com/v2`): the `ticker` and `trade` channels
 * for `BTC/USD`-style pairs. Unlike Coinbase and Binance, v2 sends numbers as JSON numbers.
 *
 * Protocol (docs.kraken.com, Spot WebSocket v2: ticker, trade, heartbeat, ping, status):
 * - `{"method":"subscribe","params":{"channel":"ticker","symbol":[…],"snapshot":true},
 *   "req_id":n}`, acknowledged once per symbol with `{"method":"subscribe","success":true,
 *   "result":{…}}` (or `success: false` and an `error`);
 * - data: `{"channel":"ticker"|"trade","type":"snapshot"|"update","data":[…]}`; the
 *   ticker snapshot is the full level-1 state, the trade snapshot the last 50 trades;
 * - `{"channel":"heartbeat"}` about once a second when nothing else flows, and a `status`
 *   message on connect;
 * - `{"method":"ping","req_id":n}` is answered `{"method":"pong",…}`: we ping once when
 *   the transport has been quiet for half of `silentMs`.
 *
 * Gaps: `trade_id` is a sequence number per book, so a skipped id marks the pair stale and
 * both channels are resubscribed with `snapshot: true`; the ticker snapshot makes it fresh
 * again and the trade snapshot sets a new baseline. Kraken publishes no per-message rate
 * for public subscriptions, so we stay conservative: 2 messages per second.
 */
import { z } from "zod";
import {
  createFeed,
  type FeedConnection,
  type FeedContext,
  type VenueProtocol,
} from "./feed_core.ts";
import type { VenueFeed, VenueFeedOptions } from "./types.ts";
import type { VenueSymbol } from "./symbols.ts";
import { hasKey, issue, parseTime, positiveNumber, timeString, venueSymbol } from "./wire.ts";

/** The public v2 endpoint. */
export const KRAKEN_WS_URL = "wss://ws.kraken.com/v2";
/** Outbound messages per second (conservative; Kraken documents no figure). */
export const KRAKEN_SENDS_PER_SECOND = 2;

const finite = z.number().finite();

const Ticker = z.object({
  symbol: venueSymbol,
  bid: positiveNumber.optional(),
  ask: positiveNumber.optional(),
  last: positiveNumber,
  volume: finite.nonnegative().optional(),
  low: positiveNumber.optional(),
  high: positiveNumber.optional(),
  change: finite.optional(),
  change_pct: finite.optional(),
  timestamp: timeString.optional(),
});

const TickerMessage = z.object({
  channel: z.literal("ticker"),
  type: z.enum(["snapshot", "update"]),
  data: z.array(Ticker).max(1_000),
});

const Trade = z.object({
  symbol: venueSymbol,
  side: z.enum(["buy", "sell"]).optional(),
  price: positiveNumber,
  qty: positiveNumber,
  ord_type: z.string().max(16).optional(),
  trade_id: z.number().int().nonnegative(),
  timestamp: timeString,
});

const TradeMessage = z.object({
  channel: z.literal("trade"),
  type: z.enum(["snapshot", "update"]),
  data: z.array(Trade).max(1_000),
});

const Heartbeat = z.object({ channel: z.literal("heartbeat") });

const Status = z.object({
  channel: z.literal("status"),
  type: z.string().max(16),
  data: z.array(z.object({ system: z.string().max(32).optional() })).max(10),
});

const MethodResponse = z.object({
  method: z.string().max(32),
  success: z.boolean().optional(),
  result: z.object({
    channel: z.string().max(32).optional(),
    symbol: z.string().max(32).optional(),
  }).optional(),
  error: z.string().max(500).optional(),
  symbol: z.string().max(32).optional(),
  req_id: z.number().int().optional(),
});

function krakenProtocol(ctx: FeedContext, url: string): VenueProtocol {
  /** Last trade id per connection and pair. */
  const lastTrade = new Map<number, Map<string, number>>();
  let reqId = 0;

  function lastOf(conn: FeedConnection): Map<string, number> {
    let m = lastTrade.get(conn.id);
    if (!m) {
      m = new Map();
      lastTrade.set(conn.id, m);
    }
    return m;
  }

  function subscribe(conn: FeedConnection, method: "subscribe" | "unsubscribe", pairs: string[]) {
    for (const channel of ["ticker", "trade"]) {
      const params: Record<string, unknown> = { channel, symbol: pairs };
      if (method === "subscribe") params.snapshot = true;
      conn.send({ method, params, req_id: ++reqId });
    }
  }

  function onTicker(message: unknown): string | undefined {
    const parsed = TickerMessage.safeParse(message);
    if (!parsed.success) return `ticker ${issue(parsed.error)}`;
    for (const t of parsed.data.data) {
      const entry = ctx.symbols.fromVenue(t.symbol);
      if (!entry) continue;
      ctx.ticker(entry, {
        price: t.last,
        bid: t.bid,
        ask: t.ask,
        open24h: t.change !== undefined && t.last - t.change > 0 ? t.last - t.change : undefined,
        high24h: t.high,
        low24h: t.low,
        volume24h: t.volume,
        ts: parseTime(t.timestamp, ctx.now()),
      }, parsed.data.type === "snapshot");
    }
  }

  function onTrade(conn: FeedConnection, message: unknown): string | undefined {
    const parsed = TradeMessage.safeParse(message);
    if (!parsed.success) return `trade ${issue(parsed.error)}`;
    const snapshot = parsed.data.type === "snapshot";
    const last = lastOf(conn);
    const gapped = new Map<string, VenueSymbol>();
    const trades = [...parsed.data.data].sort((a, b) => a.trade_id - b.trade_id);
    for (const t of trades) {
      const entry = ctx.symbols.fromVenue(t.symbol);
      if (!entry) continue;
      const previous = last.get(entry.canonical);
      if (!snapshot && previous !== undefined) {
        if (t.trade_id <= previous) continue; // repeated
        if (t.trade_id > previous + 1 && !gapped.has(entry.canonical)) {
          gapped.set(entry.canonical, entry);
          ctx.gap(conn, [entry], `trade_id ${previous} → ${t.trade_id}`);
        }
      }
      last.set(entry.canonical, Math.max(previous ?? t.trade_id, t.trade_id));
      ctx.trade(entry, {
        price: t.price,
        size: t.qty,
        side: t.side,
        tradeId: String(t.trade_id),
        ts: parseTime(t.timestamp, ctx.now()),
      });
    }
  }

  function onMethod(conn: FeedConnection, message: unknown): string | undefined {
    const parsed = MethodResponse.safeParse(message);
    if (!parsed.success) return `response ${issue(parsed.error)}`;
    const r = parsed.data;
    if (r.method === "subscribe" && r.success === true) ctx.ack(conn);
    if (r.success === false) {
      ctx.warn("refused", "Kraken refused a request", {
        method: r.method,
        error: r.error,
        symbol: r.symbol ?? r.result?.symbol,
      });
    }
    return undefined;
  }

  return {
    sendsPerSecond: KRAKEN_SENDS_PER_SECOND,
    url: () => url,
    onOpen(conn) {
      subscribe(conn, "subscribe", ctx.symbols.symbols.map((s) => s.venueSymbol));
    },
    onMessage(conn, message) {
      if (hasKey(message, "channel")) {
        switch (message.channel) {
          case "ticker":
            return onTicker(message);
          case "trade":
            return onTrade(conn, message);
          case "heartbeat": {
            const parsed = Heartbeat.safeParse(message);
            return parsed.success ? undefined : `heartbeat ${issue(parsed.error)}`;
          }
          case "status": {
            const parsed = Status.safeParse(message);
            return parsed.success ? undefined : `status ${issue(parsed.error)}`;
          }
          default:
            if (typeof message.channel !== "string") return "channel is not a string";
            return undefined; // a channel we do not use
        }
      }
      if (hasKey(message, "method")) return onMethod(conn, message);
      return "neither a channel message nor a method response";
    },
    onClose(conn) {
      lastTrade.delete(conn.id);
    },
    resubscribe(conn, entries) {
      const pairs = entries.map((e) => e.venueSymbol);
      subscribe(conn, "unsubscribe", pairs);
      subscribe(conn, "subscribe", pairs);
    },
    keepalive(conn) {
      conn.send({ method: "ping", req_id: ++reqId });
    },
  };
}

/** Follows `options.symbols` on Kraken (WebSocket v2). Throws for an unknown symbol. */
export function createKrakenFeed(options: VenueFeedOptions): VenueFeed {
  const url = options.url ?? KRAKEN_WS_URL;
  return createFeed({
    venue: "kraken",
    options,
    protocol: (ctx) => krakenProtocol(ctx, url),
  });
}
