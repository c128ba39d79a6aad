/**
 * Preact signal hooks over the shared page client. Islands use these and never touch
 * sockets. One client per page: every island imports the same module instance (the
 * island bundles share this module's chunk).
 */
import { type Signal, signal, useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { Quote } from "../prices/types.ts";
import { RealtimeClient } from "./client.ts";
import type { ConnectionState, PublishResult } from "./types.ts";

/** A publish that finally failed, for the notice islands show. */
export interface FailedPublish {
  id: string;
  channel: string;
  message: string;
  at: number;
}

/** Connection facts as signals, for the status indicator. */
export interface ConnectionSignals {
  state: Signal<ConnectionState>;
  /** Reconnect attempts since the last success. */
  attempt: Signal<number>;
  /** When the next reconnect is due (ms since epoch), or null. */
  nextRetryAt: Signal<number | null>;
  /** Whether the browser says it is offline. */
  offline: Signal<boolean>;
  /** Round-trip time of the last ping, ms. */
  rttMs: Signal<number | null>;
  /** Reconnects since the page loaded. */
  reconnects: Signal<number>;
  /** Publishes that could not be delivered (newest last, at most 5). */
  failures: Signal<FailedPublish[]>;
}

interface PageClient {
  client: RealtimeClient;
  signals: ConnectionSignals;
}

let shared: PageClient | null = null;

/** The gateway URL for the current page (`/api/ws` on the same origin). */
export function pageSocketUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/api/ws`;
}

function browserStorage(): Storage | undefined {
  try {
    return globalThis.localStorage ?? undefined;
  } catch {
    return undefined; // storage disabled (privacy mode): the offline queue lives in memory
  }
}

/** The page's one client, created and connected on first use (browser only). */
export function pageClient(): PageClient {
  if (shared) return shared;
  // One offline queue per signed-in user: what user A queued must never be sent as user
  // B after a sign-out and sign-in in the same browser. _app.tsx renders the meta tag.
  const user = document.querySelector<HTMLMetaElement>("meta[name=realtime-user]")?.content ||
    "anonymous";
  const client = new RealtimeClient({
    url: pageSocketUrl(globalThis.location),
    storage: browserStorage(),
    storageKey: `realtime:outbox:${user}`,
  });
  const signals: ConnectionSignals = {
    state: signal(client.state),
    attempt: signal(0),
    nextRetryAt: signal(null),
    offline: signal(typeof navigator !== "undefined" && navigator.onLine === false),
    rttMs: signal(null),
    reconnects: signal(0),
    failures: signal([]),
  };
  const sync = () => {
    signals.state.value = client.state;
    signals.attempt.value = client.attempt;
    signals.nextRetryAt.value = client.nextRetryAt;
    const q = client.quality();
    signals.rttMs.value = q.rttMs;
    signals.reconnects.value = q.reconnects;
  };
  client.onStateChange(sync);
  // Retries reschedule without a state change: keep the countdown and RTT current.
  setInterval(sync, 500);
  client.onPublishFailed((failure) => {
    const entry: FailedPublish = {
      id: failure.id,
      channel: failure.channel,
      message: failure.message,
      at: Date.now(),
    };
    signals.failures.value = [...signals.failures.value, entry].slice(-5);
  });
  globalThis.addEventListener?.("online", () => {
    signals.offline.value = false;
    client.connect();
  });
  // Offline: the socket cannot work, and the browser may keep it looking open until a
  // heartbeat times out. Close it now (queued publishes stay queued) and reconnect on
  // `online`, which also skips any backoff wait.
  globalThis.addEventListener?.("offline", () => {
    signals.offline.value = true;
    client.disconnect();
  });
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

/** Whether the page is visible; non-essential streams pause while it is hidden. */
export function usePageVisible(): boolean {
  const visible = useSignal(true);
  useEffect(() => {
    const update = () => visible.value = document.visibilityState !== "hidden";
    update();
    document.addEventListener("visibilitychange", update);
    return () => document.removeEventListener("visibilitychange", update);
  }, []);
  return visible.value;
}

/**
 * Live quotes for `symbols`, starting from the server-rendered `initial` quotes.
 * Returns one signal per symbol, updated by snapshots and messages. The subscriptions
 * pause while the tab is hidden (battery) and resume — with a fresh snapshot — when shown.
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
  const visible = usePageVisible();
  useEffect(() => {
    if (!visible) return;
    const { client } = pageClient();
    const subs = symbols.map((symbol) => {
      const target = map[symbol];
      const apply = (q: Quote) => {
        if (!target.value || q.ts >= target.value.ts) target.value = q;
      };
      return client.subscribe<Quote>(`prices:${symbol}`, { onMessage: apply, onSnapshot: apply });
    });
    return () => subs.forEach((s) => s.unsubscribe());
  }, [symbols.join(","), visible]);
  return map;
}

/** A channel's recent messages as a signal. */
export interface ChannelSignals<T> {
  /** The newest messages, oldest first, at most `limit`. */
  messages: Signal<T[]>;
  /** `live` once subscribed; `reset` after a reconnect that could not recover; `error` if refused. */
  status: Signal<"subscribing" | "live" | "reset" | "error">;
  /** Why the subscription was refused, when `status` is `error`. */
  error: Signal<string | null>;
}

/** Subscribes to `channel` and keeps its last `limit` messages. */
export function useChannel<T>(channel: string, limit = 50): ChannelSignals<T> {
  const state = useSignal<ChannelSignals<T> | null>(null);
  if (state.value === null) {
    state.value = { messages: signal([]), status: signal("subscribing"), error: signal(null) };
  }
  const s = state.value;
  useEffect(() => {
    const { client } = pageClient();
    const sub = client.subscribe<T>(channel, {
      onMessage(data) {
        s.messages.value = [...s.messages.value, data].slice(-limit);
      },
      onSubscribed({ recovered }) {
        s.status.value = recovered === false ? "reset" : "live";
      },
      onReset() {
        s.messages.value = [];
      },
      onError(error) {
        s.status.value = "error";
        s.error.value = error.message;
      },
    });
    return () => sub.unsubscribe();
  }, [channel]);
  return s;
}

/** Publishes through the page client (queued while offline; acknowledged; never lost silently). */
export function publish<T>(
  channel: string,
  data: T,
  optimistic?: { apply(): void; rollback(): void },
): Promise<PublishResult> {
  return pageClient().client.publish(channel, data, optimistic ? { optimistic } : undefined);
}
