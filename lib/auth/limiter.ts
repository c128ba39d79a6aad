/**
 * A failure counter for login attempts: at most `maxFailures` per key in a fixed window,
 * then the key is refused until its window ends. Memory is bounded: at most `maxKeys`
 * keys are tracked and the oldest window is dropped first (an evicted key starts over,
 * which only happens under a flood of distinct keys).
 *
 * It lives in the memory of one isolate: with `deno serve --parallel` each isolate
 * counts on its own, so the effective limit is multiplied by the number of isolates.
 */

/** Options of {@linkcode createLimiter}. */
export interface LimiterOptions {
  /** Failures allowed per key and window. Default 10. */
  maxFailures?: number;
  /** Window length in ms. Default 15 minutes. */
  windowMs?: number;
  /** Keys tracked at most. Default 10 000. */
  maxKeys?: number;
  /** Clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** Whether an attempt may proceed. */
export type LimitVerdict = { ok: true } | { ok: false; retryAfterSec: number };

/** A bounded failure counter. */
export interface Limiter {
  /** Refuses when any of `keys` has used up its failures; `retryAfterSec` is the longest wait. */
  check(...keys: string[]): LimitVerdict;
  /** Counts one failure for each of `keys`. */
  fail(...keys: string[]): void;
  /** Forgets `key` (after a successful login). */
  reset(key: string): void;
  /** Keys currently tracked. */
  readonly size: number;
}

interface Window {
  count: number;
  endsAt: number;
}

/** Creates a {@linkcode Limiter}. */
export function createLimiter(options: LimiterOptions = {}): Limiter {
  const maxFailures = options.maxFailures ?? 10;
  const windowMs = options.windowMs ?? 15 * 60_000;
  const maxKeys = options.maxKeys ?? 10_000;
  const now = options.now ?? Date.now;
  // Insertion order = window start order, so the first entry is the oldest window.
  const windows = new Map<string, Window>();

  function live(key: string, t: number): Window | undefined {
    const w = windows.get(key);
    if (w && w.endsAt <= t) {
      windows.delete(key);
      return undefined;
    }
    return w;
  }

  return {
    check(...keys) {
      const t = now();
      let wait = 0;
      for (const key of keys) {
        const w = live(key, t);
        if (w && w.count >= maxFailures) wait = Math.max(wait, w.endsAt - t);
      }
      return wait > 0 ? { ok: false, retryAfterSec: Math.ceil(wait / 1000) } : { ok: true };
    },
    fail(...keys) {
      const t = now();
      for (const key of keys) {
        const w = live(key, t);
        if (w) {
          w.count++;
          continue;
        }
        while (windows.size >= maxKeys) windows.delete(windows.keys().next().value!);
        windows.set(key, { count: 1, endsAt: t + windowMs });
      }
    },
    reset(key) {
      windows.delete(key);
    },
    get size() {
      return windows.size;
    },
  };
}
