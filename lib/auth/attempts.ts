/**
 * Where attempt budgets are counted: {@linkcode AttemptStore} is what the failed-sign-in
 * limiter (login_limiter.ts) needs of a counter, so the same policy runs on this isolate's
 * memory ({@linkcode createMemoryAttempts}, the default) or on a store every isolate and
 * process shares (lib/cluster: Deno KV or Redis), where `--parallel` or several hosts no
 * longer multiply the budgets.
 *
 * The contract, for every implementation: {@linkcode AttemptStore.begin} reserves one
 * attempt under every key at once, or none when any key's counted plus in-flight attempts
 * reached its budget — atomically, so concurrent callers (in any isolate) never overrun a
 * budget. Windows are fixed: a key's window starts with its first attempt and lasts
 * `windowMs`; attempts in flight stay reserved across a window's end.
 */
import { type Attempt, createLimiter, type Limiter, type Usage } from "./limiter.ts";

export type { Usage } from "./limiter.ts";

/** One key of a {@linkcode AttemptStore.begin} call and its budget (`Infinity`: never refused). */
export interface AttemptKey {
  /** What is counted (`ip`, `pair`, `name`): keys of different scopes never meet. */
  scope: string;
  /** At most {@linkcode MAX_ATTEMPT_KEY_CHARS} characters. */
  key: string;
  budget: number;
}

/** Longest key an {@linkcode AttemptStore} accepts (longer ones are cut). */
export const MAX_ATTEMPT_KEY_CHARS = 200;

/** How a reserved attempt ends. */
export interface AttemptOutcome {
  /** Count it against every key's budget (a wrong password); else only release it. */
  counted: boolean;
  /** Scopes whose key's counted attempts are forgotten as well (a right password clears its pair). */
  reset?: readonly string[];
}

/** A reservation: end it exactly once (later calls do nothing). */
export interface AttemptGrant {
  readonly ok: true;
  /** Each key's usage just before this reservation, in the order of the keys. */
  readonly before: readonly Usage[];
  /** Ends the reservation. Never rejects: a store failure goes to the store's `onError`. */
  end(outcome: AttemptOutcome): Promise<void>;
}

/** A refusal: nothing was reserved. */
export interface AttemptRefusal {
  readonly ok: false;
  /** Seconds until the fullest refusing key's window ends (at least 1). */
  retryAfterSec: number;
}

/** Attempt budgets per key (see the module's documentation for the contract). */
export interface AttemptStore {
  /** Reserves one attempt under every key, or none. */
  begin(keys: readonly AttemptKey[], windowMs: number): Promise<AttemptGrant | AttemptRefusal>;
  /** The usage of `key` in its current window (zero when untracked). */
  usage(key: AttemptKey, windowMs: number): Promise<Usage>;
  /** Keys this isolate holds in memory (0 for a shared store). */
  readonly size: number;
}

/** Options of {@linkcode createMemoryAttempts}. */
export interface MemoryAttemptsOptions {
  /** Keys tracked at most, per scope. Default 10 000. */
  maxKeys?: number;
  /** Clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/**
 * An {@linkcode AttemptStore} in this isolate's memory (limiter.ts, one limiter per
 * scope, budget and window): synchronous inside, so a reservation is made before the first
 * await. With `deno serve --parallel` each isolate counts on its own.
 */
export function createMemoryAttempts(options: MemoryAttemptsOptions = {}): AttemptStore {
  const limiters = new Map<string, Limiter>();
  const limiterOf = ({ scope, budget }: AttemptKey, windowMs: number) => {
    const id = `${scope}\n${budget}\n${windowMs}`;
    let limiter = limiters.get(id);
    if (!limiter) {
      limiter = createLimiter({ budget, windowMs, maxKeys: options.maxKeys, now: options.now });
      limiters.set(id, limiter);
    }
    return limiter;
  };
  return {
    begin(keys, windowMs) {
      const before = keys.map((k) => limiterOf(k, windowMs).usage(k.key));
      const held: { scope: string; key: string; limiter: Limiter; attempt: Attempt }[] = [];
      for (const k of keys) {
        const limiter = limiterOf(k, windowMs);
        const attempt = limiter.begin(k.key);
        if (!attempt.ok) {
          for (const h of held) h.attempt.release();
          return Promise.resolve(attempt);
        }
        held.push({ scope: k.scope, key: k.key, limiter, attempt });
      }
      let done = false;
      return Promise.resolve({
        ok: true as const,
        before,
        end(outcome: AttemptOutcome) {
          if (done) return Promise.resolve();
          done = true;
          for (const h of held) outcome.counted ? h.attempt.count() : h.attempt.release();
          for (const h of held) if (outcome.reset?.includes(h.scope)) h.limiter.reset(h.key);
          return Promise.resolve();
        },
      });
    },
    usage(key, windowMs) {
      return Promise.resolve(limiterOf(key, windowMs).usage(key.key));
    },
    get size() {
      let n = 0;
      for (const l of limiters.values()) n += l.size;
      return n;
    },
  };
}
