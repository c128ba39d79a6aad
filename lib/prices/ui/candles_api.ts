/**
 * Reading candles from `GET /api/candles` in the browser, bounded in time and size and
 * validated; a missing endpoint, an error or garbage is "not available" (`null`), which
 * the page shows as an empty state.
 *
 * @module
 */
import type { Candle, CandleInterval } from "../types.ts";
import { parseCandleList } from "./validate.ts";

/** Options of {@linkcode fetchCandles}. */
export interface FetchCandlesOptions {
  from?: number;
  to?: number;
  /** Give up after this long, ms. Default 10 000. */
  timeoutMs?: number;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/** Largest answer read, bytes (5 000 candles of ~100 bytes fit). */
const MAX_ANSWER_BYTES = 1_000_000;

/** The URL of a candles query. */
export function candlesUrl(
  symbol: string,
  interval: CandleInterval,
  from?: number,
  to?: number,
): string {
  const q = new URLSearchParams({ symbol, interval });
  if (from !== undefined) q.set("from", String(Math.floor(from)));
  if (to !== undefined) q.set("to", String(Math.floor(to)));
  return `/api/candles?${q}`;
}

/** The candles of `symbol`, oldest first, or `null` when they cannot be had. */
export async function fetchCandles(
  symbol: string,
  interval: CandleInterval,
  options: FetchCandlesOptions = {},
): Promise<Candle[] | null> {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    const res = await doFetch(candlesUrl(symbol, interval, options.from, options.to), {
      signal,
      headers: { accept: "application/json" },
    });
    if (!res.ok) {
      await res.body?.cancel();
      return null;
    }
    const text = await res.text();
    if (text.length > MAX_ANSWER_BYTES) return null;
    return parseCandleList(JSON.parse(text));
  } catch {
    return null;
  }
}
