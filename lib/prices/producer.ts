/**
 * Singleton producers under a KV lease: {@linkcode runUnderLease} runs a loop only while
 * this isolate holds the lease (the price engine, lib/prices/engine.ts, runs on it).
 * Exactly one isolate produces; the others only watch what it writes.
 */
import { kvLeases, type Leases } from "../kv/lease.ts";

/** The lease that elects the producing isolate. */
export const MARKET_LEASE = "market";

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Options for {@linkcode runUnderLease}. */
export interface LeaseLoopOptions {
  kv: Deno.Kv;
  /** The lease's name. */
  lease: string;
  /** Where the lease lives (the cluster's engine). Default: KV leases on `kv`. */
  leases?: Leases;
  /** Unique id of this isolate. */
  holder: string;
  /** Time between two rounds (lease renewal, then `tick`), in ms. */
  intervalMs: number;
  /** Stops the loop (and releases the lease). */
  signal: AbortSignal;
  /** Lease time to live; default 5 × intervalMs, at least 2 s. */
  leaseTtlMs?: number;
  /** Clock; default `Date.now`. */
  now?: () => number;
  /** Called with errors that did not stop the loop (KV hiccups). */
  onError?: (err: unknown) => void;
  /** Called when this isolate gains (`true`) or loses (`false`) the lease. */
  onLeaseChange?: (holding: boolean) => void;
  /** This isolate just won the lease; if it throws, the next round tries again. */
  acquired: () => Promise<void>;
  /** One round while holding the lease. */
  tick: () => Promise<void>;
  /** This isolate lost the lease, or is stopping while holding it. */
  released: () => Promise<void>;
}

/**
 * Runs `tick` every `intervalMs` while this isolate holds the lease, `acquired` and
 * `released` around each tenure. Resolves once `signal` aborts and the lease is released;
 * never rejects (errors go to `onError`).
 */
export async function runUnderLease(options: LeaseLoopOptions): Promise<void> {
  const { kv, lease, holder, intervalMs, signal } = options;
  const now = options.now ?? Date.now;
  const ttlMs = options.leaseTtlMs ?? Math.max(2_000, intervalMs * 5);
  const onError = options.onError ?? (() => {});
  const leases = options.leases ?? kvLeases(kv, now);
  let holding = false;
  // While holding, renew every quarter of the lease's life, not every round (a round can
  // be short, and each renewal is a KV commit).
  const renewEveryMs = ttlMs / 4;
  let renewedAt = -Infinity;
  while (!signal.aborted) {
    try {
      const renew = !holding || now() - renewedAt >= renewEveryMs;
      const held = renew ? await leases.acquire(lease, holder, ttlMs) : true;
      if (renew && held) renewedAt = now();
      if (held && !holding) {
        await options.acquired();
        holding = true;
        options.onLeaseChange?.(true);
      } else if (!held && holding) {
        holding = false;
        options.onLeaseChange?.(false);
        await options.released();
      }
      if (holding) await options.tick();
    } catch (err) {
      onError(err);
      // The store is unreachable: once the lease may have expired elsewhere, stop acting
      // as its holder (another isolate may take it), and compete for it again later.
      if (holding && now() - renewedAt >= ttlMs * 0.75) {
        holding = false;
        options.onLeaseChange?.(false);
        await options.released().catch(onError);
      }
    }
    await sleep(intervalMs, signal);
  }
  if (holding) {
    await options.released().catch(onError);
    await leases.release(lease, holder).catch(onError);
    options.onLeaseChange?.(false);
  }
}
