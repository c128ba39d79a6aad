/**
 * An attempt budget per key that holds under concurrency. An attempt is reserved with
 * {@linkcode Limiter.begin} *before* the expensive work it guards (a password hash) and
 * counts against the budget while it is in flight; once its outcome is known it is either
 * counted (`count()`, e.g. a wrong password) or released (`release()`, e.g. a right one).
 * So 40 concurrent attempts against a budget of 10 reserve 10 and refuse 30, instead of
 * all 40 passing a check that only sees finished failures.
 *
 * Windows are fixed: a key's window starts with its first attempt and lasts `windowMs`.
 * Memory is bounded: at most `maxKeys` keys are tracked and the oldest window is dropped
 * first (an evicted key starts over, which only happens under a flood of distinct keys).
 *
 * It lives in the memory of one isolate: with `deno serve --parallel` each isolate
 * counts on its own, so the effective budget is multiplied by the number of isolates.
 */

/** Options of {@linkcode createLimiter}. */
export interface LimiterOptions {
  /** Attempts per key and window: counted ones plus those in flight. Default 10. */
  budget?: number;
  /** Window length in ms. Default 15 minutes. */
  windowMs?: number;
  /** Keys tracked at most. Default 10 000. */
  maxKeys?: number;
  /** Clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** A reserved attempt. Each of its methods takes effect once; later calls do nothing. */
export interface Attempt {
  readonly ok: true;
  /** Ends the attempt and counts it against the budget of every key. */
  count(): void;
  /** Ends the attempt without counting it. */
  release(): void;
}

/** An attempt refused because a key's budget is used up. */
export interface Refusal {
  readonly ok: false;
  /** Seconds until the fullest refusing key's window ends (at least 1). */
  retryAfterSec: number;
}

/** What a key has used in its current window. */
export interface Usage {
  /** Attempts counted. */
  counted: number;
  /** Attempts reserved and not yet ended. */
  inFlight: number;
}

/** A bounded, concurrency-safe attempt budget per key. */
export interface Limiter {
  /**
   * Reserves one attempt under every key, or refuses without reserving anything when
   * any key's counted plus in-flight attempts reached the budget. Synchronous, so no
   * other attempt can slip in between the check and the reservation.
   */
  begin(...keys: string[]): Attempt | Refusal;
  /** The usage of `key` in its current window (zero when untracked). */
  usage(key: string): Usage;
  /** Forgets the counted attempts of `key`; attempts in flight stay reserved. */
  reset(key: string): void;
  /** Keys currently tracked. */
  readonly size: number;
}

interface Window extends Usage {
  endsAt: number;
}

/** Creates a {@linkcode Limiter}. */
export function createLimiter(options: LimiterOptions = {}): Limiter {
  const budget = options.budget ?? 10;
  const windowMs = options.windowMs ?? 15 * 60_000;
  const maxKeys = options.maxKeys ?? 10_000;
  const now = options.now ?? Date.now;
  if (!(budget >= 1) || !(windowMs > 0) || !(maxKeys >= 1)) {
    throw new RangeError(
      `Cannot create a limiter: budget, windowMs and maxKeys must be positive, got ${budget}, ${windowMs}, ${maxKeys}`,
    );
  }
  // Insertion order = window start order, so the first entry is the oldest window.
  const windows = new Map<string, Window>();

  /** The key's window at `t`, restarted (and moved to the end) when it has ended. */
  function live(key: string, t: number): Window | undefined {
    const w = windows.get(key);
    if (!w || w.endsAt > t) return w;
    windows.delete(key);
    if (w.inFlight === 0) return undefined;
    w.counted = 0;
    w.endsAt = t + windowMs;
    windows.set(key, w);
    return w;
  }

  function open(key: string, t: number): Window {
    while (windows.size >= maxKeys) windows.delete(windows.keys().next().value!);
    const w: Window = { counted: 0, inFlight: 0, endsAt: t + windowMs };
    windows.set(key, w);
    return w;
  }

  function finish(key: string, reserved: Window, counted: boolean): void {
    const t = now();
    const current = live(key, t);
    // An evicted window's reservation is gone with it; only this window's is released.
    if (current === reserved && reserved.inFlight > 0) reserved.inFlight--;
    if (counted) (current ?? open(key, t)).counted++;
  }

  return {
    begin(...keys) {
      const t = now();
      let wait = 0;
      for (const key of keys) {
        const w = live(key, t);
        if (w && w.counted + w.inFlight >= budget) wait = Math.max(wait, w.endsAt - t);
      }
      if (wait > 0) return { ok: false, retryAfterSec: Math.max(1, Math.ceil(wait / 1000)) };
      const reserved = keys.map((key) => {
        const w = live(key, t) ?? open(key, t);
        w.inFlight++;
        return [key, w] as const;
      });
      let done = false;
      const end = (counted: boolean) => {
        if (done) return;
        done = true;
        for (const [key, w] of reserved) finish(key, w, counted);
      };
      return { ok: true, count: () => end(true), release: () => end(false) };
    },
    usage(key) {
      const w = live(key, now());
      return { counted: w?.counted ?? 0, inFlight: w?.inFlight ?? 0 };
    },
    reset(key) {
      const w = windows.get(key);
      if (!w) return;
      if (w.inFlight === 0) windows.delete(key);
      else w.counted = 0;
    },
    get size() {
      return windows.size;
    },
  };
}
