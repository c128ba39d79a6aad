/** Client option defaults, in one place (documented per field in `types.ts`). */
import type { ClientOptions, CodecName, Timers } from "./types.ts";

/** The defaults of every optional numeric / string option. */
export const CLIENT_DEFAULTS = {
  minReconnectDelayMs: 500,
  maxReconnectDelayMs: 20_000,
  codec: "json" as CodecName,
  batch: true,
  delta: false,
  ackTimeoutMs: 10_000,
  requestTimeoutMs: 10_000,
  publishRetries: 3,
  maxQueue: 100,
  storageKey: "realtime:outbox",
  pingIntervalMs: 15_000,
} as const;

/** The global timers and `Date.now`. */
export const defaultTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as number),
  now: () => Date.now(),
};

/** Options with every default filled in. */
export type ResolvedOptions =
  & Required<Omit<ClientOptions, "createSocket" | "getToken" | "storage">>
  & Pick<ClientOptions, "createSocket" | "getToken" | "storage">;

/** Fills in the defaults. */
export function resolveOptions(options: ClientOptions): ResolvedOptions {
  return {
    ...CLIENT_DEFAULTS,
    timers: defaultTimers,
    random: Math.random,
    ...withoutUndefined(options),
  };
}

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
