/**
 * Small zod building blocks for venue messages: decimal strings (Coinbase and Binance send
 * numbers as strings), bounded identifiers, RFC 3339 times, and a compact error summary.
 */
import { z } from "zod";

const UNSIGNED = /^\d{1,30}(\.\d{1,30})?$/;
const SIGNED = /^-?\d{1,30}(\.\d{1,30})?$/;

/** A decimal string > 0 (`"68900.50"`), parsed to a finite number. */
export const positiveDecimal = z.string().max(64).regex(UNSIGNED).transform(Number)
  .refine((n) => Number.isFinite(n) && n > 0, "must be > 0");

/** A decimal string ≥ 0; `"0"` (no bid, say) becomes `undefined`. */
export const optionalPositiveDecimal = z.string().max(64).regex(UNSIGNED).transform((s) => {
  const n = Number(s);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}).optional();

/** A signed decimal string (`"-4.15"`); empty becomes `undefined`. */
export const optionalSignedDecimal = z.string().max(64)
  .regex(/^(-?\d{1,30}(\.\d{1,30})?)?$/)
  .transform((s) => (s === "" ? undefined : Number(s)))
  .optional();

/** A signed decimal string, required. */
export const signedDecimal = z.string().max(64).regex(SIGNED).transform(Number);

/** A symbol or product id as venues spell them. */
export const venueSymbol = z.string().min(1).max(32);

/** A finite JSON number > 0 (Kraken sends numbers as numbers). */
export const positiveNumber = z.number().finite().positive();

/** A timestamp string, bounded. Parse it with {@linkcode parseTime}. */
export const timeString = z.string().max(64);

/**
 * Milliseconds since the epoch of an RFC 3339 time (any number of fraction digits), or
 * `fallback` when it cannot be read.
 */
export function parseTime(value: string | undefined, fallback: number): number {
  if (!value) return fallback;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : fallback;
}

/** The first issue of a failed parse, for the malformed-message log line. */
export function issue(error: z.ZodError): string {
  const first = error.issues[0];
  if (!first) return "invalid";
  const path = first.path.length > 0 ? first.path.join(".") : "(root)";
  return `${path}: ${first.message}`.slice(0, 200);
}

/** Whether `value` is a plain object with key `key`. */
export function hasKey(value: unknown, key: string): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && key in value;
}
