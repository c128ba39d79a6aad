/**
 * EVM addresses as users type them: 40 hex digits after `0x`, in one case (no checksum
 * to check) or in mixed case, which must then be the EIP-55 checksum. A mixed-case address
 * whose checksum does not match is refused — it is how a mistyped address shows — and the
 * correct spelling is not suggested (that would defeat the check).
 *
 * @module
 */
import { getAddress } from "viem";

/** The outcome of {@linkcode parseAddress}. */
export type AddressParse = { ok: true; address: string } | { ok: false; message: string };

const SHAPE = /^0x[0-9a-fA-F]{40}$/;

/** Validates `input` and returns its EIP-55 checksummed form, or why it is not one. */
export function parseAddress(input: unknown): AddressParse {
  if (typeof input !== "string") {
    return { ok: false, message: "The address must be a string like 0x… (40 hex digits)" };
  }
  const text = input.trim();
  if (text.length > 100) return { ok: false, message: "The address is too long" };
  const shown = JSON.stringify(text.slice(0, 50));
  if (!text.startsWith("0x")) {
    return { ok: false, message: `Not an address: ${shown} must start with 0x` };
  }
  if (!SHAPE.test(text)) {
    const digits = text.length - 2;
    return {
      ok: false,
      message: /^[0-9a-fA-F]*$/.test(text.slice(2))
        ? `Not an address: ${shown} has ${digits} hex digits, expected 40`
        : `Not an address: ${shown} has characters other than hex digits`,
    };
  }
  const checksummed = getAddress(text.toLowerCase());
  const body = text.slice(2);
  const mixed = body !== body.toLowerCase() && body !== body.toUpperCase();
  if (mixed && text !== checksummed) {
    return {
      ok: false,
      message:
        `Wrong checksum: ${shown} mixes upper and lower case but is not a valid EIP-55 checksum; check for a typo, or give the address in one case`,
    };
  }
  return { ok: true, address: checksummed };
}

const cache = new Map<string, string>();
const CACHE_MAX = 4_096;

/** The checksummed form of a lower-case address from a validated RPC answer (memoized). */
export function checksum(lower: string): string {
  let out = cache.get(lower);
  if (out === undefined) {
    out = getAddress(lower);
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(lower, out);
  }
  return out;
}
