/**
 * Coinbase Advanced Trade market data (`wss://advanced-trade-ws.coinbase.com`), without
 * authentication: the `heartbeats`, `ticker` and `market_trades` channels.
 *
 * Protocol (docs.cdp.coinbase.com, Advanced Trade WebSocket overview / channels / rate
 * limits):
 * - one `{"type":"subscribe","channel":…,"product_ids":[…]}` per channel, sent at once:
 *   the server closes a socket that has not subscribed within 5 s;
 * - every message is `{channel, client_id, timestamp, sequence_num, events: […]}`;
 *   `sequence_num` counts the messages of the connection, so a skipped number means a
 *   lost message of any channel: every symbol goes stale (gap) and the `ticker` channel is
 *   resubscribed, whose `snapshot` event makes each product fresh again;
 * - numbers are decimal strings; `subscriptions` acknowledges a subscribe;
 * - unauthenticated messages are limited to 8 per second per IP: we send at most 5.
 *
 * `market_trades` is subscribed one product per message: its snapshot on subscribe carries
 * recent trades, and one message per product keeps each under the 64 KiB inbound bound.
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
import {
  issue,
  optionalPositiveDecimal,
  optionalSignedDecimal,
  parseTime,
  positiveDecimal,
  timeString,
  venueSymbol,
} from "./wire.ts";

/** The public market-data endpoint. */
export const COINBASE_WS_URL = "wss://advanced-trade-ws.coinbase.com";
/** Outbound messages per second (Coinbase allows 8 per IP). */
export const COINBASE_SENDS_PER_SECOND = 5;

const Envelope = z.object({
  channel: z.string().max(64),
  sequence_num: z.number().int().nonnegative(),
  timestamp: timeString.optional(),
  events: z.array(z.unknown()).max(200),
});

const ErrorMessage = z.object({
  type: z.literal("error"),
  message: z.string().max(1_000).optional(),
  reason: z.string().max(1_000).optional(),
});

const Ticker = z.object({
  product_id: venueSymbol,
  price: positiveDecimal,
  volume_24_h: optionalPositiveDecimal,
  low_24_h: optionalPositiveDecimal,
  high_24_h: optionalPositiveDecimal,
  price_percent_chg_24_h: optionalSignedDecimal,
  best_bid: optionalPositiveDecimal,
  best_ask: optionalPositiveDecimal,
});

const TickerEvents = z.array(z.object({
  type: z.enum(["snapshot", "update"]),
  tickers: z.array(Ticker).max(1_000),
}));

const Trade = z.object({
  trade_id: z.union([z.string().min(1).max(64), z.number().int().nonnegative()]).transform(String),
  product_id: venueSymbol,
  price: positiveDecimal,
  size: positiveDecimal,
  side: z.string().max(32).optional(),
  time: timeString,
});

const TradeEvents = z.array(z.object({
  type: z.enum(["snapshot", "update"]),
  trades: z.array(Trade).max(2_000),
}));

const SubscriptionEvents = z.array(z.object({
  subscriptions: z.record(z.string().max(64), z.array(z.string().max(64)).max(1_000)),
}));

const HeartbeatEvents = z.array(z.object({
  current_time: z.string().max(128).optional(),
  heartbeat_counter: z.union([z.number().int(), z.string().max(32)]).optional(),
}));

function side(raw: string | undefined): "buy" | "sell" | undefined {
  const lower = raw?.toLowerCase();
  return lower === "buy" || lower === "sell" ? lower : undefined;
}

function coinbaseProtocol(ctx: FeedContext, url: string): VenueProtocol {
  /** Last `sequence_num` per connection. */
  const sequence = new Map<number, number>();
  const products = () => ctx.symbols.symbols.map((s) => s.venueSymbol);

  function onTicker(events: unknown[], ts: number): string | undefined {
    const parsed = TickerEvents.safeParse(events);
    if (!parsed.success) return `ticker ${issue(parsed.error)}`;
    for (const event of parsed.data) {
      for (const t of event.tickers) {
        const entry = ctx.symbols.fromVenue(t.product_id);
        if (!entry) continue;
        const pct = t.price_percent_chg_24_h;
        ctx.ticker(entry, {
          price: t.price,
          bid: t.best_bid,
          ask: t.best_ask,
          open24h: pct !== undefined && pct > -100 ? t.price / (1 + pct / 100) : undefined,
          high24h: t.high_24_h,
          low24h: t.low_24_h,
          volume24h: t.volume_24_h,
          ts,
        }, event.type === "snapshot");
      }
    }
  }

  function onTrades(events: unknown[], fallbackTs: number): string | undefined {
    const parsed = TradeEvents.safeParse(events);
    if (!parsed.success) return `market_trades ${issue(parsed.error)}`;
    for (const event of parsed.data) {
      const trades = event.trades
        .map((t) => ({ t, ts: parseTime(t.time, fallbackTs) }))
        .sort((a, b) => a.ts - b.ts);
      for (const { t, ts } of trades) {
        const entry = ctx.symbols.fromVenue(t.product_id);
        if (!entry) continue;
        ctx.trade(entry, {
          price: t.price,
          size: t.size,
          side: side(t.side),
          tradeId: t.trade_id,
          ts,
        });
      }
    }
  }

  return {
    sendsPerSecond: COINBASE_SENDS_PER_SECOND,
    url: () => url,
    onOpen(conn) {
      conn.send({ type: "subscribe", channel: "heartbeats" });
      conn.send({ type: "subscribe", channel: "ticker", product_ids: products() });
      for (const product of products()) {
        conn.send({ type: "subscribe", channel: "market_trades", product_ids: [product] });
      }
    },
    onMessage(conn, message) {
      const envelope = Envelope.safeParse(message);
      if (!envelope.success) {
        const error = ErrorMessage.safeParse(message);
        if (error.success) {
          ctx.warn("error", "Coinbase sent an error", {
            message: error.data.message,
            reason: error.data.reason,
          });
          return undefined;
        }
        return issue(envelope.error);
      }
      const { channel, sequence_num: seq, events } = envelope.data;
      const last = sequence.get(conn.id);
      if (last !== undefined && seq <= last) return undefined; // late or repeated: ignore
      sequence.set(conn.id, seq);
      if (last !== undefined && seq > last + 1) {
        ctx.gap(conn, ctx.symbols.symbols, `sequence_num ${last} → ${seq}`);
      }
      const ts = parseTime(envelope.data.timestamp, ctx.now());
      switch (channel) {
        case "ticker":
        case "ticker_batch":
          return onTicker(events, ts);
        case "market_trades":
          return onTrades(events, ts);
        case "subscriptions": {
          const parsed = SubscriptionEvents.safeParse(events);
          if (!parsed.success) return `subscriptions ${issue(parsed.error)}`;
          ctx.ack(conn);
          return undefined;
        }
        case "heartbeats": {
          const parsed = HeartbeatEvents.safeParse(events);
          return parsed.success ? undefined : `heartbeats ${issue(parsed.error)}`;
        }
        default:
          // "Clients are expected to ignore messages they do not support."
          return undefined;
      }
    },
    onClose(conn) {
      sequence.delete(conn.id);
    },
    resubscribe(conn: FeedConnection, entries: readonly VenueSymbol[]) {
      const ids = entries.map((e) => e.venueSymbol);
      conn.send({ type: "unsubscribe", channel: "ticker", product_ids: ids });
      conn.send({ type: "subscribe", channel: "ticker", product_ids: ids });
    },
  };
}

/** Follows `options.symbols` on Coinbase Advanced Trade. Throws for an unknown symbol. */
export function createCoinbaseFeed(options: VenueFeedOptions): VenueFeed {
  const url = options.url ?? COINBASE_WS_URL;
  return createFeed({
    venue: "coinbase",
    options,
    protocol: (ctx) => coinbaseProtocol(ctx, url),
  });
}
