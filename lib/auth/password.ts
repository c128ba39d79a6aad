/**
 * Password hashing: PBKDF2-HMAC-SHA256 through WebCrypto, stored as a self-describing
 * string `pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>` so the work factor can
 * be raised later without losing existing accounts.
 */
import { constantTimeEqual, fromBase64, randomBytes, toBase64 } from "./_util.ts";

/** OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256. */
export const DEFAULT_PBKDF2_ITERATIONS = 600_000;
/** The lowest work factor accepted anywhere (tests use it to stay fast). */
export const MIN_PBKDF2_ITERATIONS = 1_000;
/** The highest work factor accepted in a stored hash (bounds the cost of a bad record). */
export const MAX_PBKDF2_ITERATIONS = 10_000_000;

const SCHEME = "pbkdf2-sha256";
const SALT_BYTES = 16;
const HASH_BYTES = 32;
const encoder = new TextEncoder();

/** Options of {@linkcode hashPassword}. */
export interface HashOptions {
  /** PBKDF2 iterations. Default {@linkcode DEFAULT_PBKDF2_ITERATIONS}. */
  iterations?: number;
  /** The salt; random 16 bytes by default (tests only). */
  salt?: Uint8Array<ArrayBuffer>;
}

/** A parsed stored hash. */
export interface ParsedHash {
  iterations: number;
  salt: Uint8Array<ArrayBuffer>;
  hash: Uint8Array;
}

async function derive(
  password: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    key,
    HASH_BYTES * 8,
  );
  return new Uint8Array(bits);
}

function checkIterations(iterations: number): void {
  if (
    !Number.isInteger(iterations) || iterations < MIN_PBKDF2_ITERATIONS ||
    iterations > MAX_PBKDF2_ITERATIONS
  ) {
    throw new RangeError(
      `Cannot hash password: iterations must be an integer from ${MIN_PBKDF2_ITERATIONS} to ${MAX_PBKDF2_ITERATIONS}, got ${iterations}`,
    );
  }
}

/** Hashes `password` with a fresh random salt; returns the stored form. */
export async function hashPassword(password: string, options: HashOptions = {}): Promise<string> {
  const iterations = options.iterations ?? DEFAULT_PBKDF2_ITERATIONS;
  checkIterations(iterations);
  const salt = options.salt ?? randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, iterations);
  return formatHash({ iterations, salt, hash });
}

/** The stored form of a parsed hash. */
export function formatHash(parsed: ParsedHash): string {
  return `${SCHEME}$${parsed.iterations}$${toBase64(parsed.salt)}$${toBase64(parsed.hash)}`;
}

/** Parses a stored hash; `null` when it is not one this module wrote. */
export function parseHash(stored: string): ParsedHash | null {
  const parts = stored.split("$");
  if (parts.length !== 4 || parts[0] !== SCHEME || !/^[1-9]\d*$/.test(parts[1])) return null;
  const iterations = Number(parts[1]);
  if (iterations < MIN_PBKDF2_ITERATIONS || iterations > MAX_PBKDF2_ITERATIONS) return null;
  const salt = fromBase64(parts[2]);
  const hash = fromBase64(parts[3]);
  if (!salt || !hash || salt.length < 8 || hash.length !== HASH_BYTES) return null;
  return { iterations, salt: new Uint8Array(salt), hash };
}

/**
 * True when `password` matches `stored`. The comparison is constant-time; a malformed
 * `stored` is simply a mismatch.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (!parsed) return false;
  const candidate = await derive(password, parsed.salt, parsed.iterations);
  return constantTimeEqual(candidate, parsed.hash);
}

/** True when `stored` was made with a different work factor (re-hash after a login). */
export function needsRehash(stored: string, iterations: number): boolean {
  return parseHash(stored)?.iterations !== iterations;
}

/**
 * A well-formed hash of no password at all, with the given work factor. Verifying against
 * it costs what a real verification costs, so a login for an unknown user takes as long
 * as one for a known user.
 */
export function decoyHash(iterations: number): string {
  checkIterations(iterations);
  return formatHash({ iterations, salt: randomBytes(SALT_BYTES), hash: randomBytes(HASH_BYTES) });
}
