/**
 * The token-signing secret: `AUTH_SECRET` when configured, else 32 random bytes generated
 * once and kept in KV under `["auth", "secret"]`. The first writer wins through an atomic
 * "only if absent" commit, so every isolate and process sharing the KV signs with the
 * same key and tokens survive restarts.
 */
import { authSecretKey } from "../kv/keys.ts";
import { randomBytes } from "./_util.ts";

/** Shortest accepted secret, in bytes (HS256 wants at least its 256-bit output size). */
export const MIN_SECRET_BYTES = 32;

/** Where the secret came from. */
export type SecretSource = "env" | "kv-existing" | "kv-created";

/** The secret bytes and where they came from. */
export interface ResolvedSecret {
  key: Uint8Array<ArrayBuffer>;
  source: SecretSource;
}

/**
 * The signing secret: `configured` (UTF-8, at least {@linkcode MIN_SECRET_BYTES} bytes)
 * when given, else the one in KV, generating it on first use.
 */
export async function resolveSecret(kv: Deno.Kv, configured?: string): Promise<ResolvedSecret> {
  if (configured !== undefined) {
    const key = new TextEncoder().encode(configured);
    if (key.length < MIN_SECRET_BYTES) {
      throw new Error(
        `Cannot use the configured auth secret: expected at least ${MIN_SECRET_BYTES} bytes, got ${key.length}`,
      );
    }
    return { key, source: "env" };
  }
  for (;;) {
    const existing = await kv.get<Uint8Array>(authSecretKey());
    if (existing.value instanceof Uint8Array && existing.value.length >= MIN_SECRET_BYTES) {
      return { key: new Uint8Array(existing.value), source: "kv-existing" };
    }
    const key = randomBytes(32);
    // `check(existing)` covers both "absent" and "a malformed value we replace".
    const commit = await kv.atomic().check(existing).set(authSecretKey(), key).commit();
    if (commit.ok) return { key, source: "kv-created" };
  }
}
