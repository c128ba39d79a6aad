/**
 * Watchlists: the pairs a user starred, kept in KV under the user when signed in
 * (`GET/PUT /api/watchlist`), in `localStorage` otherwise (lib/prices/ui/watchlist_client.ts).
 * The same validation runs on both sides: at most {@linkcode MAX_WATCHLIST} pairs spelled
 * as the app spells them, each once.
 *
 * @module
 */
import { watchlistKey } from "../kv/keys.ts";

/** Pairs a watchlist holds at most. */
export const MAX_WATCHLIST = 50;

/** Largest `PUT /api/watchlist` body, bytes (50 pairs of 16 characters fit with room). */
export const MAX_WATCHLIST_BODY_BYTES = 2_048;

const SYMBOL = /^[A-Z0-9]{2,10}-[A-Z]{3,5}$/;

/** The outcome of {@linkcode parseWatchlist}. */
export type WatchlistParse = { ok: true; symbols: string[] } | { ok: false; message: string };

/**
 * Validates a watchlist body `{ "symbols": [...] }` (or a bare array): at most
 * {@linkcode MAX_WATCHLIST} pairs like `BTC-USD`, duplicates removed, order kept. With
 * `known`, a pair it refuses is an error naming it.
 */
export function parseWatchlist(
  data: unknown,
  known?: (symbol: string) => boolean,
): WatchlistParse {
  const list = Array.isArray(data)
    ? data
    : data && typeof data === "object" && !Array.isArray(data)
    ? (data as { symbols?: unknown }).symbols
    : undefined;
  if (!Array.isArray(list)) {
    return { ok: false, message: 'Expected a JSON object { "symbols": ["BTC-USD", …] }' };
  }
  if (list.length > MAX_WATCHLIST) {
    return {
      ok: false,
      message: `A watchlist holds at most ${MAX_WATCHLIST} pairs, got ${list.length}`,
    };
  }
  const symbols: string[] = [];
  for (const item of list) {
    if (typeof item !== "string" || !SYMBOL.test(item)) {
      const shown = typeof item === "string" ? JSON.stringify(item.slice(0, 20)) : typeof item;
      return { ok: false, message: `Not a pair: ${shown} (expected e.g. "BTC-USD")` };
    }
    if (known && !known(item)) return { ok: false, message: `Unknown pair "${item}"` };
    if (!symbols.includes(item)) symbols.push(item);
  }
  return { ok: true, symbols };
}

/** The stored value. */
interface StoredWatchlist {
  symbols: string[];
  updatedAt: number;
}

/** The user's watchlist (empty when none was saved, or what was saved is not valid). */
export async function readWatchlist(kv: Deno.Kv, userId: string): Promise<string[]> {
  const entry = await kv.get<StoredWatchlist>(watchlistKey(userId));
  if (!entry.value) return [];
  const parsed = parseWatchlist(entry.value.symbols);
  return parsed.ok ? parsed.symbols : [];
}

/** Replaces the user's watchlist with `symbols` (already validated). */
export async function writeWatchlist(
  kv: Deno.Kv,
  userId: string,
  symbols: readonly string[],
  now: () => number = Date.now,
): Promise<void> {
  const value: StoredWatchlist = { symbols: [...symbols], updatedAt: now() };
  await kv.set(watchlistKey(userId), value);
}

/** Deletes the user's watchlist (account deletion). */
export async function deleteWatchlist(kv: Deno.Kv, userId: string): Promise<void> {
  await kv.delete(watchlistKey(userId));
}
