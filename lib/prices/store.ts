/** The price board in Deno KV: one value, written by the producer, watched by every isolate. */
import { priceBoardKey } from "../kv/keys.ts";
import {
  type Candle,
  type MarketOverview,
  OVERVIEW_CHANNEL,
  type PriceBoard,
  type Quote,
} from "./types.ts";
import type { VenueHealth } from "./venues/types.ts";

/** Reads the current board, or `null` before the first write. */
export async function readBoard(kv: Deno.Kv): Promise<PriceBoard | null> {
  return (await kv.get<PriceBoard>(priceBoardKey())).value;
}

/**
 * Merges `quotes` into the stored board in one atomic commit and returns the new board.
 * Retries when another writer committed in between.
 */
export function writeQuotes(kv: Deno.Kv, quotes: Quote[], now: number): Promise<PriceBoard> {
  return updateBoard(kv, { quotes }, now);
}

/** What {@linkcode updateBoard} changes: quotes and candles merge, the rest replaces. */
export interface BoardPatch {
  quotes?: readonly Quote[];
  /** Newest candle per `candles:` channel name. */
  candles?: Record<string, Candle>;
  overview?: MarketOverview;
  venues?: VenueHealth[];
}

/**
 * Applies `patch` to the stored board in one atomic commit and returns the new board.
 * Retries when another writer committed in between.
 */
export async function updateBoard(
  kv: Deno.Kv,
  patch: BoardPatch,
  now: number,
): Promise<PriceBoard> {
  const key = priceBoardKey();
  for (let attempt = 0; attempt < 10; attempt++) {
    const current = await kv.get<PriceBoard>(key);
    const board: PriceBoard = {
      ...current.value,
      seq: (current.value?.seq ?? 0) + 1,
      ts: now,
      quotes: { ...current.value?.quotes },
    };
    for (const q of patch.quotes ?? []) board.quotes[q.symbol] = q;
    if (patch.candles) board.candles = { ...current.value?.candles, ...patch.candles };
    if (patch.overview) board.overview = patch.overview;
    if (patch.venues) board.venues = patch.venues;
    const result = await kv.atomic().check(current).set(key, board).commit();
    if (result.ok) return board;
  }
  throw new Error("Cannot write price board: too much contention on the board key");
}

/**
 * Yields the board each time it changes (KV `watch` coalesces: a reader may skip
 * intermediate boards, never the latest). Ends when `signal` aborts.
 */
export async function* watchBoard(kv: Deno.Kv, signal: AbortSignal): AsyncGenerator<PriceBoard> {
  const stream = kv.watch<[PriceBoard]>([priceBoardKey()]);
  const reader = stream.getReader();
  const onAbort = () => reader.cancel().catch(() => {});
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    while (!signal.aborted) {
      const { done, value } = await reader.read();
      if (done) return;
      const board = value[0].value;
      if (board) yield board;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/**
 * `board` with one bus message of a price channel applied (`prices:`, `candles:`,
 * `market:overview`); any other channel, or an older quote, leaves it as it is. Lets an
 * isolate whose KV is not the producer's (several hosts, each with its own KV, one Redis)
 * serve pages and snapshots from what the bus carries. `seq` is kept, so the next board
 * read from KV still replaces it.
 */
export function mergeIntoBoard(
  board: PriceBoard | null,
  channel: string,
  data: unknown,
  ts: number,
): PriceBoard | null {
  if (typeof data !== "object" || data === null) return board;
  const base: PriceBoard = board ?? { seq: 0, ts, quotes: {} };
  if (channel.startsWith("prices:")) {
    const quote = data as Quote;
    const symbol = channel.slice("prices:".length);
    if (quote.symbol !== symbol || typeof quote.price !== "number") return board;
    const old = base.quotes[symbol];
    if (old && old.ts > quote.ts) return board;
    return { ...base, ts: Math.max(base.ts, ts), quotes: { ...base.quotes, [symbol]: quote } };
  }
  if (channel.startsWith("candles:")) {
    const name = channel.slice("candles:".length);
    return { ...base, candles: { ...base.candles, [name]: data as Candle } };
  }
  if (channel === OVERVIEW_CHANNEL) return { ...base, overview: data as MarketOverview };
  return board;
}
