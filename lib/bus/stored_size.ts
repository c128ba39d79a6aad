/**
 * How many bytes Deno KV will need to store a value, known before asking it. KV stores
 * values in V8's serialization format, at most 64 KiB each, and refuses a whole atomic
 * commit when one value is too large, nests too deep for the serializer (a stack overflow
 * whose depth depends on the caller's stack) or cannot be serialized. The bus measures
 * every message once, here, so a message KV cannot hold is refused alone, at `publish`,
 * and batches are cut by the bytes KV will really write.
 *
 * V8's encoding depends on representations JavaScript cannot observe: a string is written
 * one byte per character only when it is one-byte inside V8 (`"é€".slice(0, 1)` is not),
 * an array that once held a double writes every number as a double, and an array made
 * with `new Array(n)` (as the MessagePack decoder does) is written sparse, each element
 * with its index. {@linkcode storedSizeBound} therefore bounds every representation; only
 * a value whose bound exceeds the limit is serialized for real (`node:v8`, the same
 * format, ~20 µs for a price quote where the bound takes ~1 µs).
 */
import { serialize } from "node:v8";

/** How deep a stored value may nest (bus messages: envelope, log entry, data). */
export const MAX_STORED_DEPTH = 64;

/** A value the bus will not store, whatever its size: not JSON-like, or nested too deep. */
export class UnstorableValueError extends Error {}

const HEADER_BYTES = 2;
/** Tag + 8 bytes: the most any number takes (a Smi takes 2–6). */
const NUMBER_BYTES = 9;

function varintBytes(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  return 5;
}

/** Tag, length, one alignment byte, two bytes per UTF-16 unit. */
function stringBytes(s: string): number {
  return 2 + varintBytes(2 * s.length) + 2 * s.length;
}

/**
 * An upper bound of the bytes Deno KV writes for `value` (V8 serialization, header
 * included), whatever the internal representation of its strings and arrays. Accepts
 * JSON-like values: null, booleans, numbers, strings, arrays and plain objects; throws
 * {@linkcode UnstorableValueError} for anything else (functions, symbols, bigints, class
 * instances, binary, `undefined`, sparse arrays) and for nesting beyond `maxDepth`.
 */
export function storedSizeBound(value: unknown, maxDepth = MAX_STORED_DEPTH): number {
  let bytes = HEADER_BYTES;
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: v, depth } = stack.pop()!;
    if (v === null || typeof v === "boolean") {
      bytes += 1;
    } else if (typeof v === "number") {
      bytes += NUMBER_BYTES;
    } else if (typeof v === "string") {
      bytes += stringBytes(v);
    } else if (typeof v === "object") {
      if (depth + 1 > maxDepth) {
        throw new UnstorableValueError(`it nests deeper than ${maxDepth} levels`);
      }
      const proto = Object.getPrototypeOf(v);
      if (Array.isArray(v) && proto === Array.prototype) {
        // Tag and length; each element, with its index when written sparse; end tag,
        // property count and length.
        bytes += 2 + 3 * varintBytes(v.length);
        for (let i = 0; i < v.length; i++) {
          if (!(i in v)) throw new UnstorableValueError("it holds a sparse array");
          bytes += 1 + varintBytes(2 * i);
          stack.push({ value: v[i], depth: depth + 1 });
        }
      } else if (proto === Object.prototype || proto === null) {
        // Begin tag, key / value pairs (an index-like key is written as a number, never
        // longer than as a string), end tag, property count.
        const keys = Object.keys(v);
        bytes += 2 + varintBytes(keys.length);
        for (const key of keys) {
          bytes += stringBytes(key);
          stack.push({ value: (v as Record<string, unknown>)[key], depth: depth + 1 });
        }
      } else {
        throw new UnstorableValueError(
          `it holds a ${(v as object).constructor?.name ?? "non-plain"} object`,
        );
      }
    } else {
      throw new UnstorableValueError(`it holds a ${typeof v}`);
    }
  }
  return bytes;
}

/**
 * The bytes KV will write for `value`: {@linkcode storedSizeBound} when it is within
 * `limit`, else the exact size from V8's serializer (which is then what `limit` is
 * checked against). Throws {@linkcode UnstorableValueError} as the bound does.
 */
export function storedSize(value: unknown, limit: number): number {
  const bound = storedSizeBound(value);
  return bound <= limit ? bound : serialize(value).byteLength;
}
