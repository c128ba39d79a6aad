/**
 * The price engine: while this isolate holds the `market` lease it runs the venue feeds,
 * feeds their events to the aggregator and the candles, and every `intervalMs`:
 *
 * 1. closes ended minutes, takes the quotes due for publication (deviation, state
 *    change, heartbeat), the changed candles (at most every `candlePublishMs`) and the
 *    overview (every `overviewEveryMs`), with each venue's health;
 * 2. writes them to the KV board in one commit (every isolate watches it and serves
 *    `/api/prices`, `/api/sources` and channel snapshots from it);
 * 3. publishes them: `prices:{SYMBOL}`, `candles:{SYMBOL}` (and `@1h`), `market:overview`;
 * 4. writes the candles due to KV.
 *
 * Losing the lease (or stopping) stops the feeds and writes the open candles; the next
 * holder resumes from the board and the stored candles.
 */
import { type AggregatorSettings, type AggregatorVenue, createAggregator } from "./aggregate.ts";
import { type CandleBook, createCandleBook } from "./candles.ts";
import { computeOverview } from "./overview.ts";
import { MARKET_LEASE, runUnderLease } from "./producer.ts";
import type { Leases } from "../kv/lease.ts";
import { readBoard, updateBoard } from "./store.ts";
import {
  type Candle,
  candleChannel,
  type MarketOverview,
  OVERVIEW_CHANNEL,
  type PriceBoard,
  priceChannel,
  type Quote,
} from "./types.ts";
import type { VenueEvent, VenueFeed, VenueHealth } from "./venues/types.ts";

/** One message for the bus. */
export interface EngineMessage {
  channel: string;
  data: unknown;
}

/** What {@linkcode PriceEngineOptions.createFeeds} is given. */
export interface FeedContext {
  /** Pass it as the feeds' `onEvent`. */
  onEvent: (event: VenueEvent) => void;
  /** The board the previous holder left (to resume a simulation from), or null. */
  board: PriceBoard | null;
}

/** Options for {@linkcode runPriceEngine}. */
export interface PriceEngineOptions {
  kv: Deno.Kv;
  /** Where the `market` lease lives (the cluster's engine). Default: KV leases on `kv`. */
  leases?: Leases;
  /** Unique id of this isolate. */
  holder: string;
  /** Stops the engine (feeds stopped, candles written, lease released). */
  signal: AbortSignal;
  /** Canonical symbols quoted. */
  symbols: readonly string[];
  /** Time between two rounds (publish decisions, board write, candle writes), ms. */
  intervalMs: number;
  /** Builds the feeds (not started) each time this isolate wins the lease. */
  createFeeds: (ctx: FeedContext) => VenueFeed[];
  /** Aggregator tunables (deviation, heartbeat, max age, …). */
  aggregator?: Partial<AggregatorSettings>;
  /** Write each open candle to KV at most this often, ms. Default 2 000. */
  candleWriteMs?: number;
  /** Publish changed candles at most this often, ms. Default 1 000. */
  candlePublishMs?: number;
  /** Recompute and publish the overview this often, ms. Default 1 000. */
  overviewEveryMs?: number;
  /**
   * After winning the lease, wait at most this long (ms) for every symbol to be quoted
   * before the first board write. Default 2 000.
   */
  firstBoardGraceMs?: number;
  /** Lease time to live; default 5 × intervalMs, at least 2 s. */
  leaseTtlMs?: number;
  /** Clock; default `Date.now`. */
  now?: () => number;
  /** Errors that did not stop the engine (KV hiccups, a throwing consumer). */
  onError?: (err: unknown) => void;
  onLeaseChange?: (holding: boolean) => void;
  /** Publishes one round's messages (after the board is written), e.g. on the bus. */
  publish?: (messages: EngineMessage[]) => Promise<void>;
}

/** The staleness a venue reports, plus what the aggregator found (too old, down). */
function healthWithStaleness(
  health: VenueHealth,
  status: (venue: string, symbol: string) => string | undefined,
): VenueHealth {
  const stale = new Set(health.staleSymbols);
  for (const symbol of health.symbols) {
    const s = status(health.venue, symbol);
    if (s === "stale" || s === "down") stale.add(symbol);
  }
  return { ...health, staleSymbols: health.symbols.filter((s) => stale.has(s)) };
}

/** Runs until `signal` aborts. Never rejects; errors go to `onError`. */
export function runPriceEngine(options: PriceEngineOptions): Promise<void> {
  const { kv, symbols } = options;
  const now = options.now ?? Date.now;
  const onError = options.onError ?? (() => {});
  const candlePublishMs = options.candlePublishMs ?? 1_000;
  const overviewEveryMs = options.overviewEveryMs ?? 1_000;
  const firstBoardGraceMs = options.firstBoardGraceMs ?? 2_000;

  let feeds: VenueFeed[] = [];
  let aggregator: ReturnType<typeof createAggregator> | null = null;
  let book: CandleBook | null = null;
  let lastCandlePublish = -Infinity;
  let lastOverview = -Infinity;
  /** Set once every symbol has a quote (or the grace period passed): then the board is written. */
  let warm = false;
  let acquiredAt = 0;

  function onEvent(event: VenueEvent): void {
    try {
      if (aggregator?.ingest(event) && event.kind === "trade") {
        book?.add(event.symbol, event.ts, event.price, event.size);
      }
    } catch (err) {
      onError(err);
    }
  }

  async function stopFeeds(): Promise<void> {
    const running = feeds;
    feeds = [];
    await Promise.all(running.map((f) => f.stop().catch(onError)));
  }

  return runUnderLease({
    kv,
    leases: options.leases,
    lease: MARKET_LEASE,
    holder: options.holder,
    intervalMs: options.intervalMs,
    signal: options.signal,
    leaseTtlMs: options.leaseTtlMs,
    now,
    onError,
    onLeaseChange: options.onLeaseChange,

    async acquired() {
      const board = await readBoard(kv);
      const created = options.createFeeds({ onEvent, board });
      try {
        const venues: AggregatorVenue[] = created.map((f) => {
          const h = f.health();
          return { venue: f.venue, symbols: h.symbols, usdProxy: h.usdProxy };
        });
        const agg = createAggregator({ ...options.aggregator, symbols, venues, now });
        agg.restore(Object.values(board?.quotes ?? {}));
        const candles = createCandleBook({
          kv,
          symbols,
          now,
          writeEveryMs: options.candleWriteMs,
        });
        await candles.resume();
        aggregator = agg;
        book = candles;
        feeds = created;
      } catch (err) {
        await Promise.all(created.map((f) => f.stop().catch(() => {})));
        throw err;
      }
      lastCandlePublish = lastOverview = -Infinity;
      warm = false;
      acquiredAt = now();
      for (const f of feeds) f.start();
    },

    async tick() {
      const agg = aggregator;
      const candles = book;
      if (!agg || !candles) return;
      const t = now();
      candles.roll();
      // The first board has every symbol (readers wait for it), unless some venue is slow.
      warm ||= t - acquiredAt >= firstBoardGraceMs ||
        symbols.every((s) => agg.evaluate(s) !== null);
      if (!warm) return;
      const quotes: Quote[] = agg.due();
      const health = feeds.map((f) => healthWithStaleness(f.health(), agg.status));
      const changed: Record<string, Candle> = {};
      if (t - lastCandlePublish >= candlePublishMs) {
        lastCandlePublish = t;
        for (const symbol of candles.takeChanged()) {
          const m = candles.latest(symbol, "1m");
          const h = candles.latest(symbol, "1h");
          if (m) changed[symbol] = m;
          if (h) changed[`${symbol}@1h`] = h;
        }
      }
      let overview: MarketOverview | undefined;
      if (t - lastOverview >= overviewEveryMs) {
        lastOverview = t;
        overview = computeOverview(agg.quotes(), health, t);
      }
      const candleNames = Object.keys(changed);
      if (quotes.length > 0 || candleNames.length > 0 || overview) {
        await updateBoard(kv, { quotes, candles: changed, overview, venues: health }, t);
        const messages: EngineMessage[] = quotes.map((q) => ({
          channel: priceChannel(q.symbol),
          data: q,
        }));
        for (const name of candleNames) {
          const [symbol, interval] = name.split("@");
          messages.push({
            channel: candleChannel(symbol, interval === "1h" ? "1h" : "1m"),
            data: changed[name],
          });
        }
        if (overview) messages.push({ channel: OVERVIEW_CHANNEL, data: overview });
        await options.publish?.(messages);
      }
      await candles.flush();
    },

    async released() {
      await stopFeeds();
      const candles = book;
      aggregator = null;
      book = null;
      await candles?.flush(true);
    },
  });
}
