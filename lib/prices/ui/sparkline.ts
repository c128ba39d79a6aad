/**
 * Sparkline geometry, pure: a series of prices → an SVG path in a `width` × `height`
 * box (drawn with SVG attributes, so the page's CSP needs no inline style).
 *
 * @module
 */
import type { Candle } from "../types.ts";

/** A sparkline's path and what it says. */
export interface Sparkline {
  /** The SVG path (`M… L…`), empty when there are fewer than two points. */
  d: string;
  /** `up` when the last value is at or above the first. */
  trend: "up" | "down" | "flat";
  /** Change from the first to the last value, percent (0 with fewer than two points). */
  changePct: number;
}

/** Points kept (older ones are dropped: a sparkline is a glance, not a chart). */
export const MAX_SPARK_POINTS = 200;

/**
 * The path of `values` scaled into `width` × `height` with `pad` pixels above and below
 * (the stroke stays inside the box). Non-finite values are skipped; a flat series is
 * drawn through the middle.
 */
export function sparkline(
  values: readonly number[],
  width: number,
  height: number,
  pad = 1,
): Sparkline {
  const points = values.filter(Number.isFinite).slice(-MAX_SPARK_POINTS);
  if (points.length < 2) return { d: "", trend: "flat", changePct: 0 };
  let min = Infinity;
  let max = -Infinity;
  for (const v of points) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max - min;
  const inner = Math.max(0, height - 2 * pad);
  const step = width / (points.length - 1);
  const round = (n: number) => Math.round(n * 10) / 10;
  const d = points.map((v, i) => {
    const x = round(i * step);
    const y = round(span === 0 ? height / 2 : pad + inner - ((v - min) / span) * inner);
    return `${i === 0 ? "M" : "L"}${x} ${y}`;
  }).join("");
  const first = points[0];
  const last = points[points.length - 1];
  const changePct = first === 0 ? 0 : ((last - first) / first) * 100;
  return { d, trend: last > first ? "up" : last < first ? "down" : "flat", changePct };
}

/** The closes of `candles`, oldest first, with `live` (the current price) as the last point. */
export function sparkValues(candles: readonly Candle[], live?: number): number[] {
  const values = candles.map((c) => c.c);
  if (live !== undefined && Number.isFinite(live)) values.push(live);
  return values;
}
