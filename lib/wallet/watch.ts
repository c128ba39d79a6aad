/**
 * Watched addresses: each user keeps at most {@linkcode MAX_WATCHED} addresses with a
 * label, in one KV value checked on every write (two tabs adding at once cannot exceed
 * the limit). The index `["wallet_watcher", address, userId]`, written in the same
 * commits, tells who may read an address's activity and which addresses the chain
 * listener follows; every change bumps `["wallet_watch_rev"]` so the listener reloads.
 *
 * @module
 */
import {
  walletDemoSeededKey,
  walletWatcherKey,
  walletWatcherRoot,
  walletWatchKey,
  walletWatchRevKey,
} from "../kv/keys.ts";
import type { WatchedAddress } from "./types.ts";

/** Addresses one user watches at most. */
export const MAX_WATCHED = 20;
/** Characters of a label at most. */
export const MAX_LABEL = 40;
/** Largest `POST /api/wallet/watch` body, bytes. */
export const MAX_WATCH_BODY_BYTES = 1_024;

interface StoredWatches {
  addresses: WatchedAddress[];
}

/** The outcome of {@linkcode parseLabel}. */
export type LabelParse = { ok: true; label: string } | { ok: false; message: string };

/**
 * A label: optional text of at most {@linkcode MAX_LABEL} characters, without control,
 * zero-width or text-direction characters.
 */
export function parseLabel(input: unknown): LabelParse {
  if (input === undefined || input === null) return { ok: true, label: "" };
  if (typeof input !== "string") return { ok: false, message: "The label must be a string" };
  const label = input.trim();
  if ([...label].length > MAX_LABEL) {
    return { ok: false, message: `The label has more than ${MAX_LABEL} characters` };
  }
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/.test(label)) {
    return { ok: false, message: "The label has control, zero-width or text-direction characters" };
  }
  return { ok: true, label };
}

/** The user's watched addresses, oldest first. */
export async function listWatched(kv: Deno.Kv, userId: string): Promise<WatchedAddress[]> {
  const entry = await kv.get<StoredWatches>(walletWatchKey(userId));
  return entry.value?.addresses ?? [];
}

/** Whether `userId` watches `address` (checksummed). */
export async function isWatching(kv: Deno.Kv, userId: string, address: string): Promise<boolean> {
  return (await kv.get(walletWatcherKey(address, userId))).versionstamp !== null;
}

/** The outcome of {@linkcode addWatched}. */
export type AddResult =
  | { ok: true; created: boolean; watched: WatchedAddress }
  | { ok: false; code: "limit"; message: string };

/**
 * Watches `address` (checksummed) with `label`; watching it again only updates the label.
 * Refuses a {@linkcode MAX_WATCHED}+1th address.
 */
export async function addWatched(
  kv: Deno.Kv,
  userId: string,
  address: string,
  label: string,
  now: () => number = Date.now,
): Promise<AddResult> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const entry = await kv.get<StoredWatches>(walletWatchKey(userId));
    const list = entry.value?.addresses ?? [];
    const index = list.findIndex((w) => w.address === address);
    if (index < 0 && list.length >= MAX_WATCHED) {
      return {
        ok: false,
        code: "limit",
        message: `You watch ${list.length} addresses, the most there can be; remove one first`,
      };
    }
    const watched: WatchedAddress = index < 0
      ? { address, label, addedAt: now() }
      : { ...list[index], label };
    const next = index < 0 ? [...list, watched] : list.map((w, i) => i === index ? watched : w);
    const result = await kv.atomic()
      .check(entry)
      .set(walletWatchKey(userId), { addresses: next } satisfies StoredWatches)
      .set(walletWatcherKey(address, userId), 1)
      .sum(walletWatchRevKey(), 1n)
      .commit();
    if (result.ok) return { ok: true, created: index < 0, watched };
  }
  throw new Error("Cannot watch the address: too much contention, retry");
}

/** Stops watching `address`; false when it was not watched. */
export async function removeWatched(
  kv: Deno.Kv,
  userId: string,
  address: string,
): Promise<boolean> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const entry = await kv.get<StoredWatches>(walletWatchKey(userId));
    const list = entry.value?.addresses ?? [];
    if (!list.some((w) => w.address === address)) return false;
    const result = await kv.atomic()
      .check(entry)
      .set(
        walletWatchKey(userId),
        {
          addresses: list.filter((w) => w.address !== address),
        } satisfies StoredWatches,
      )
      .delete(walletWatcherKey(address, userId))
      .sum(walletWatchRevKey(), 1n)
      .commit();
    if (result.ok) return true;
  }
  throw new Error("Cannot stop watching the address: too much contention, retry");
}

/** Deletes every watch of a user (account deletion). */
export async function deleteWatches(kv: Deno.Kv, userId: string): Promise<void> {
  for (const w of await listWatched(kv, userId)) await removeWatched(kv, userId, w.address);
  await kv.delete(walletWatchKey(userId));
}

/** The revision of the watched set (changes with every watch change). */
export async function watchRevision(kv: Deno.Kv): Promise<bigint> {
  const entry = await kv.get<Deno.KvU64>(walletWatchRevKey());
  return entry.value?.value ?? 0n;
}

/** Every address someone watches (checksummed), at most `max`. */
export async function watchedAddresses(kv: Deno.Kv, max = 100_000): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const entry of kv.list({ prefix: walletWatcherRoot() })) {
    const address = entry.key[1];
    if (typeof address === "string") out.add(address);
    if (out.size >= max) break;
  }
  return out;
}

/**
 * Gives `address` to the user once (the demo account and the demo chain's busy address):
 * if they remove it later, it stays removed.
 */
export async function seedWatchOnce(
  kv: Deno.Kv,
  userId: string,
  address: string,
  label: string,
  now: () => number = Date.now,
): Promise<boolean> {
  const marker = await kv.get(walletDemoSeededKey(userId));
  if (marker.versionstamp !== null) return false;
  const claimed = await kv.atomic().check(marker).set(walletDemoSeededKey(userId), 1).commit();
  if (!claimed.ok) return false;
  const added = await addWatched(kv, userId, address, label, now);
  return added.ok;
}
