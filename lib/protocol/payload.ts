/**
 * What `publish.data` may be: a JSON value — null, booleans, finite numbers, strings,
 * arrays and plain objects — nested at most {@linkcode MAX_PAYLOAD_DEPTH} deep. Both codecs
 * deliver every message to both kinds of client, so MessagePack-only values (binary,
 * extension types and timestamps, NaN and infinities) are refused rather than altered.
 */
import { MAX_PAYLOAD_DEPTH } from "./limits.ts";

/** Why a payload is refused, one sentence; `null` when it is acceptable. */
export function payloadProblem(data: unknown, maxDepth = MAX_PAYLOAD_DEPTH): string | null {
  // Iterative, so no input can exhaust the stack; each value is visited once.
  const stack: { value: unknown; depth: number }[] = [{ value: data, depth: 0 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    switch (typeof value) {
      case "string":
      case "boolean":
        continue;
      case "number":
        if (Number.isFinite(value)) continue;
        return `data holds ${value}, which JSON cannot carry`;
      case "object": {
        if (value === null) continue;
        const proto = Object.getPrototypeOf(value);
        const isArray = Array.isArray(value) && proto === Array.prototype;
        if (!isArray && proto !== Object.prototype && proto !== null) {
          return `data holds a ${
            describe(value)
          }; only JSON values are allowed (null, booleans, finite numbers, strings, arrays, objects)`;
        }
        if (depth + 1 > maxDepth) {
          return `data nests deeper than ${maxDepth} levels of arrays and objects`;
        }
        const children = isArray ? value as unknown[] : Object.values(value);
        for (const child of children) stack.push({ value: child, depth: depth + 1 });
        continue;
      }
      default:
        return `data holds a ${typeof value}; only JSON values are allowed`;
    }
  }
  return null;
}

function describe(value: object): string {
  if (value instanceof Uint8Array) return "binary value (send binary as a base64 string)";
  if (value instanceof Date) return "timestamp extension (send time as a number or string)";
  return `${value.constructor?.name ?? "non-plain"} value (a MessagePack extension type?)`;
}
