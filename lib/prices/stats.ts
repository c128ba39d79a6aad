/** Small robust statistics shared by the aggregator, candles and the overview. */

/** The median of `values` (the mean of the two middle ones for an even count); NaN if empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The median absolute deviation of `values` around `center` (their median by default). */
export function medianAbsoluteDeviation(
  values: readonly number[],
  center = median(values),
): number {
  return median(values.map((v) => Math.abs(v - center)));
}

/** Scales a MAD to a standard deviation for normally distributed data. */
export const MAD_TO_SIGMA = 1.4826;

/**
 * `value` rounded to `digits` significant digits (8 by default: exact for every price a
 * venue quotes, and short on the wire). Non-finite values and 0 are returned as they are.
 */
export function roundSig(value: number, digits = 8): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const decimals = Math.max(0, Math.min(15, digits - 1 - magnitude));
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

/** Whether `value` is a finite number greater than 0. */
export function isPositive(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value > 0;
}
