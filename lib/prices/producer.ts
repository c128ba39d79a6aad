/**
 * The market producer: while this isolate holds the `market` lease it advances the
 * simulated market and writes the moved quotes to the KV board. Exactly one isolate
 * produces; the others only watch the board.
 */
import { releaseLease, tryAcquireLease } from "../bus/lease.ts";
import type { SimulatedMarket } from "./simulated.ts";
import type { Quote } from "./types.ts";
import { readBoard, writeQuotes } from "./store.ts";

/** The lease that elects the producing isolate. */
export const MARKET_LEASE = "market";

/** Options for {@linkcode runMarketProducer}. */
export interface MarketProducerOptions {
  kv: Deno.Kv;
  market: SimulatedMarket;
  /** Unique id of this isolate. */
  holder: string;
  /** Time between ticks, in ms. */
  intervalMs: number;
  /** Stops the producer (and releases the lease). */
  signal: AbortSignal;
  /** Lease time to live; default 5 × intervalMs, at least 2 s. */
  leaseTtlMs?: number;
  /** Clock; default `Date.now`. */
  now?: () => number;
  /** Called with errors that did not stop the producer (KV hiccups). */
  onError?: (err: unknown) => void;
  /** Called when this isolate gains (`true`) or loses (`false`) the lease. */
  onLeaseChange?: (holding: boolean) => void;
  /** Publishes the quotes that moved (after the board is written), e.g. on the bus. */
  publish?: (quotes: Quote[]) => Promise<void>;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Runs until `signal` aborts. Never rejects; errors go to `onError`. */
export async function runMarketProducer(options: MarketProducerOptions): Promise<void> {
  const { kv, market, holder, intervalMs, signal } = options;
  const now = options.now ?? Date.now;
  const ttlMs = options.leaseTtlMs ?? Math.max(2_000, intervalMs * 5);
  let holding = false;
  let last = now();
  while (!signal.aborted) {
    try {
      const held = await tryAcquireLease(kv, MARKET_LEASE, { holder, ttlMs, now });
      if (held && !holding) {
        // Resume from the board the previous holder left, so prices stay continuous.
        const board = await readBoard(kv);
        if (board) market.restore(Object.values(board.quotes));
        else await writeQuotes(kv, market.snapshot(), now());
        last = now();
      }
      if (held !== holding) {
        holding = held;
        options.onLeaseChange?.(holding);
      }
      if (holding) {
        const t = now();
        const moved = market.tick(t - last);
        last = t;
        if (moved.length > 0) {
          await writeQuotes(kv, moved, t);
          await options.publish?.(moved);
        }
      }
    } catch (err) {
      options.onError?.(err);
    }
    await sleep(intervalMs, signal);
  }
  if (holding) {
    await releaseLease(kv, MARKET_LEASE, holder).catch(options.onError);
    options.onLeaseChange?.(false);
  }
}
