/**
 * The failed-sign-in policy shared by every path that checks a password (`/login`,
 * `POST /api/token`, `/account`'s password change and deletion):
 *
 * 1. **Per client address** (IPv6: per /64, see address.ts): at most `perIp` attempts
 *    per window, counted before the hash — an attempt in flight counts.
 * 2. **Per username and address**: at most `perUsernameAndIp` the same way.
 * 3. **Per username across addresses**: never a refusal. Once a name has `perUsername`
 *    failures (or attempts in flight) in the window, each further attempt on it waits a
 *    delay that doubles from `delayBaseMs` up to `maxDelayMs` before its hash. So an
 *    attacker hammering a name from many addresses cannot lock its owner out: the owner,
 *    from an address that did not fail, is refused nothing and waits at most
 *    `maxDelayMs`.
 *
 * Refusals (1, 2) happen before the delay and before any hashing, so a refused attempt
 * costs almost nothing. A right password releases its reservation and clears the count
 * of its username-and-address pair (not the address's, not the name's).
 *
 * Where the counts live is the limiter's {@linkcode AttemptStore}: this isolate's memory
 * by default; the app passes the cluster's store (lib/cluster, Deno KV or Redis), so the
 * budgets hold across `--parallel` isolates and processes, not once per isolate.
 */
import { addressKey } from "./address.ts";
import { type AttemptKey, type AttemptStore, createMemoryAttempts } from "./attempts.ts";

/**
 * Limits of failed sign-ins. Counted where the limiter's {@linkcode AttemptStore} counts:
 * this isolate's memory by default, every isolate and process together on a shared store
 * (lib/cluster, which the app uses).
 */
export interface LoginLimits {
  /** Attempts per client address and window. Default 30. */
  perIp?: number;
  /** Attempts per username and client address and window. Default 10. */
  perUsernameAndIp?: number;
  /** Failures of one username (all addresses) per window before attempts are delayed. Default 10. */
  perUsername?: number;
  /** The first delay, doubled with each further failure. Default 250 ms. */
  delayBaseMs?: number;
  /** The longest delay. Default 3 000 ms. */
  maxDelayMs?: number;
  /** Window in seconds. Default 900 (15 minutes). */
  windowSec?: number;
  /** Keys tracked at most in memory, per counter (without `store`). Default 10 000. */
  maxKeys?: number;
}

/** Options of {@linkcode createLoginLimiter}: the limits plus the clock, the delay and the store. */
export interface LoginLimiterOptions extends LoginLimits {
  /** Clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Waits `ms` (the progressive delay). Default a timer. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Where attempts are counted. Default: this isolate's memory
   * ({@linkcode createMemoryAttempts} with `maxKeys` and `now`).
   */
  store?: AttemptStore;
}

/** An admitted sign-in attempt: report its verdict exactly once (later calls do nothing). */
export interface LoginPass {
  readonly ok: true;
  /** How long this attempt waited before it was let through, ms. */
  readonly delayMs: number;
  /** The password was wrong (or the user unknown): counts against every budget. */
  fail(): Promise<void>;
  /** The password was right: releases the reservation, clears the pair's count. */
  succeed(): Promise<void>;
  /** No verdict (the check itself failed): releases the reservation, counts nothing. */
  abandon(): Promise<void>;
}

/** A refused attempt: nothing was hashed. */
export interface LoginBlock {
  readonly ok: false;
  retryAfterSec: number;
}

/** The failed-sign-in limiter. */
export interface LoginLimiter {
  /**
   * Reserves an attempt for `username` from `ip` (atomically in the store, before any
   * hashing), then waits the username's progressive delay, if any. Call it before hashing.
   */
  enter(username: string, ip: string): Promise<LoginPass | LoginBlock>;
  /** The delay the next attempt on `username` would wait, ms. */
  delayFor(username: string): Promise<number>;
  /** Keys tracked in this isolate's memory (0 with a shared store). */
  readonly size: number;
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The key a username counts under: lowercase, at most 64 characters. */
export function usernameKey(username: string): string {
  return username.toLowerCase().slice(0, 64);
}

/** Creates a {@linkcode LoginLimiter}. */
export function createLoginLimiter(options: LoginLimiterOptions = {}): LoginLimiter {
  const windowMs = (options.windowSec ?? 900) * 1000;
  const store = options.store ??
    createMemoryAttempts({ maxKeys: options.maxKeys, now: options.now });
  const perIp = options.perIp ?? 30;
  const perPair = options.perUsernameAndIp ?? 10;
  const freeFailures = options.perUsername ?? 10;
  const baseMs = options.delayBaseMs ?? 250;
  const maxMs = options.maxDelayMs ?? 3_000;
  const sleep = options.sleep ?? defaultSleep;
  const nameKey = (name: string): AttemptKey => ({ scope: "name", key: name, budget: Infinity });

  function delayOf(usage: { counted: number; inFlight: number }): number {
    const excess = usage.counted + usage.inFlight - freeFailures;
    return excess < 0 ? 0 : Math.min(maxMs, baseMs * 2 ** excess);
  }

  return {
    async delayFor(username) {
      return delayOf(await store.usage(nameKey(usernameKey(username)), windowMs));
    },
    get size() {
      return store.size;
    },
    async enter(username, ip) {
      const name = usernameKey(username);
      const address = addressKey(ip);
      // One reservation under the three keys, or none: the username's is never refused
      // (an unlimited budget), its usage before this attempt sets the delay.
      const grant = await store.begin([
        { scope: "ip", key: address, budget: perIp },
        { scope: "pair", key: `${address}\n${name}`, budget: perPair },
        nameKey(name),
      ], windowMs);
      if (!grant.ok) return grant;
      const delayMs = delayOf(grant.before[2]);
      if (delayMs > 0) {
        try {
          await sleep(delayMs);
        } catch (error) {
          await grant.end({ counted: false });
          throw error;
        }
      }
      return {
        ok: true,
        delayMs,
        fail: () => grant.end({ counted: true }),
        succeed: () => grant.end({ counted: false, reset: ["pair"] }),
        abandon: () => grant.end({ counted: false }),
      };
    },
  };
}
