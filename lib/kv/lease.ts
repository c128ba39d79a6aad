/**
 * Singleton leases on KV: exactly one holder at a time, with expiry, so a producer
 * runs in one isolate and another takes over when the holder dies.
 */
import { leaseKey } from "./keys.ts";

/** What is stored under a lease key. */
export interface LeaseRecord {
  holder: string;
  /** ms since the epoch after which the lease may be taken by anyone. */
  expiresAt: number;
}

/** Options for {@linkcode tryAcquireLease}. */
export interface LeaseOptions {
  /** Unique id of the would-be holder (one per isolate). */
  holder: string;
  /** How long the lease lasts unless renewed, in ms. */
  ttlMs: number;
  /** Clock; default `Date.now`. */
  now?: () => number;
}

/**
 * Takes or renews the lease `name`. Returns true when `holder` holds it afterwards.
 * Atomic: two isolates racing for an expired lease cannot both win.
 */
export async function tryAcquireLease(
  kv: Deno.Kv,
  name: string,
  options: LeaseOptions,
): Promise<boolean> {
  const now = (options.now ?? Date.now)();
  const key = leaseKey(name);
  const current = await kv.get<LeaseRecord>(key);
  const record = current.value;
  if (record && record.holder !== options.holder && record.expiresAt > now) return false;
  const next: LeaseRecord = { holder: options.holder, expiresAt: now + options.ttlMs };
  const result = await kv.atomic().check(current).set(key, next).commit();
  return result.ok;
}

/** Gives up the lease if `holder` holds it, so another isolate can take it at once. */
export async function releaseLease(kv: Deno.Kv, name: string, holder: string): Promise<void> {
  const key = leaseKey(name);
  const current = await kv.get<LeaseRecord>(key);
  if (current.value?.holder !== holder) return;
  await kv.atomic().check(current).delete(key).commit();
}

/** Who holds the lease now, or `null` when it is free or expired. */
export async function leaseHolder(
  kv: Deno.Kv,
  name: string,
  now: () => number = Date.now,
): Promise<string | null> {
  const record = (await kv.get<LeaseRecord>(leaseKey(name))).value;
  return record && record.expiresAt > now() ? record.holder : null;
}

/**
 * Named singleton leases on whatever engine the cluster shares (KV: {@linkcode kvLeases};
 * Redis: lib/cluster). The price engine, the chain listener and the alert engine take
 * theirs through this, so with several processes on Redis one holder runs cluster-wide.
 */
export interface Leases {
  /** Takes or renews `name` for `holder` for `ttlMs`; true when `holder` holds it afterwards. */
  acquire(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives `name` up if `holder` holds it. */
  release(name: string, holder: string): Promise<void>;
  /** Who holds `name` now, or `null`. */
  holder(name: string): Promise<string | null>;
}

/** {@linkcode Leases} on KV (the functions above), with `now` as the clock. */
export function kvLeases(kv: Deno.Kv, now: () => number = Date.now): Leases {
  return {
    acquire: (name, holder, ttlMs) => tryAcquireLease(kv, name, { holder, ttlMs, now }),
    release: (name, holder) => releaseLease(kv, name, holder),
    holder: (name) => leaseHolder(kv, name, now),
  };
}
