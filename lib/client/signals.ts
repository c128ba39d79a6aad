/**
 * Preact signal hooks over the shared page client. Islands use these and never touch
 * sockets. One client per page: every island imports the same module instance.
 */
import { type Signal, signal, useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { Quote } from "../prices/types.ts";
import { RealtimeClient } from "./client.ts";
import type { ConnectionState } from "./types.ts";

/** Connection facts as signals, for the status indicator. */
export interface ConnectionSignals {
  state: Signal<ConnectionState>;
  /** Reconnect attempts since the last success. */
  attempt: Signal<number>;
  /** When the next reconnect is due (ms since epoch), or null. */
  nextRetryAt: Signal<number | null>;
  /** Whether the browser says it is offline. */
  offline: Signal<boolean>;
}

let shared: { client: RealtimeClient; signals: ConnectionSignals } | null = null;

/** The gateway URL for the current page (`/api/ws` on the same origin). */
export function pageSocketUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/api/ws`;
}

/** The page's one client, created and connected on first use (browser only). */
export function pageClient(): { client: RealtimeClient; signals: ConnectionSignals } {
  if (shared) return shared;
  const client = new RealtimeClient({ url: pageSocketUrl(globalThis.location) });
  const signals: ConnectionSignals = {
    state: signal(client.state),
    attempt: signal(0),
    nextRetryAt: signal(null),
    offline: signal(typeof navigator !== "undefined" && navigator.onLine === false),
  };
  client.onStateChange(({ newState }) => {
    signals.state.value = newState;
    signals.attempt.value = client.attempt;
    signals.nextRetryAt.value = client.nextRetryAt;
  });
  globalThis.addEventListener?.("online", () => {
    signals.offline.value = false;
    client.connect();
  });
  globalThis.addEventListener?.("offline", () => signals.offline.value = true);
  client.connect();
  shared = { client, signals };
  return shared;
}

/** Connection signals of the page client; connects on mount. */
export function useConnection(): ConnectionSignals | null {
  const ready = useSignal<ConnectionSignals | null>(null);
  useEffect(() => {
    ready.value = pageClient().signals;
  }, []);
  return ready.value;
}

/**
 * Live quotes for `symbols`, starting from the server-rendered `initial` quotes.
 * Returns one signal per symbol, updated by snapshots and messages.
 */
export function usePriceStream(
  symbols: readonly string[],
  initial: Readonly<Record<string, Quote>>,
): Record<string, Signal<Quote | undefined>> {
  const quotes = useSignal<Record<string, Signal<Quote | undefined>> | null>(null);
  if (quotes.value === null) {
    const map: Record<string, Signal<Quote | undefined>> = {};
    for (const s of symbols) map[s] = signal(initial[s]);
    quotes.value = map;
  }
  const map = quotes.value;
  useEffect(() => {
    const { client } = pageClient();
    const subs = symbols.map((symbol) => {
      const target = map[symbol];
      const apply = (q: Quote) => {
        if (!target.value || q.ts >= target.value.ts) target.value = q;
      };
      return client.subscribe<Quote>(`prices:${symbol}`, { onMessage: apply, onSnapshot: apply });
    });
    return () => subs.forEach((s) => s.unsubscribe());
  }, [symbols.join(",")]);
  return map;
}
