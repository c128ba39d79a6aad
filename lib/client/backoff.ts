/** Full-jitter exponential backoff (AWS Architecture Blog, "Exponential Backoff And Jitter"). */

/** Bounds of the reconnect delay. */
export interface BackoffOptions {
  /** Base delay of the first retry, in ms. Default 500. */
  minMs?: number;
  /** Cap of any delay, in ms. Default 20 000. */
  maxMs?: number;
}

/** Default bounds: 0.5 s base, 20 s cap (as centrifuge-js). */
export const DEFAULT_BACKOFF: Required<BackoffOptions> = { minMs: 500, maxMs: 20_000 };

/**
 * Delay before retry number `attempt` (0-based): uniform in
 * `[0, min(maxMs, minMs × 2^attempt))`. `random` returns floats in [0, 1).
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const minMs = options.minMs ?? DEFAULT_BACKOFF.minMs;
  const maxMs = options.maxMs ?? DEFAULT_BACKOFF.maxMs;
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.floor(random() * ceiling);
}
