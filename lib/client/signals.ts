/**
 * Preact signal hooks over the shared page client. Islands use these and never touch
 * sockets. One client per page: every island imports the same module instance (the
 * island bundles share this module's chunk).
 */
import { type Signal, signal, useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { RealtimeClient } from "./client.ts";
import type { PresenceMember } from "../protocol/messages.ts";
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
    // Latest-value channels (prices, candles, overview) send patches after the first
    // full value; the server ignores delta on ordered channels (docs/PROTOCOL.md).
    delta: true,
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

/** One message of a channel log: the validated data with its position and sender. */
export interface LogEntry<T> {
  data: T;
  /** The channel offset (the entry's identity; entries are kept in offset order). */
  offset: number;
  /** Server time of the publish, ms since the epoch. */
  ts: number;
  /** The publishing user's id, attached by the server. */
  from?: string;
  /** The publishing user's display name, attached by the server (the one to show). */
  fromName?: string;
}

/** Options of {@linkcode useChannelLog}. */
export interface ChannelLogOptions<T> {
  /** Entries kept (the newest). Default 50; also the history loaded on open. */
  limit?: number;
  /**
   * Validates one message's data; `null` drops it. Another user's message that is not
   * what this island expects must never break the island for everyone.
   */
  parse(data: unknown): T | null;
}

/** A channel's recent messages, loaded from history on open and kept live. */
export interface ChannelLog<T> {
  /** Oldest first, at most `limit`, each offset once. */
  entries: Signal<LogEntry<T>[]>;
  /** `loading` until the history arrived; `live`; `error` when refused. */
  status: Signal<"loading" | "live" | "error">;
  /** Why the subscription or the history read was refused. */
  error: Signal<string | null>;
  /** Messages dropped by `parse` since the page loaded. */
  rejected: Signal<number>;
  /** Adds an entry known from elsewhere (e.g. an own publish's ack) if not present. */
  add(entry: LogEntry<T>): void;
}

/** Merges `incoming` into `entries` by offset (each offset once), keeping the newest `limit`. */
export function mergeEntries<T>(
  entries: readonly LogEntry<T>[],
  incoming: readonly LogEntry<T>[],
  limit: number,
): LogEntry<T>[] {
  if (incoming.length === 0) return entries as LogEntry<T>[];
  const byOffset = new Map<number, LogEntry<T>>();
  for (const e of entries) byOffset.set(e.offset, e);
  let changed = false;
  for (const e of incoming) {
    if (byOffset.has(e.offset)) continue;
    byOffset.set(e.offset, e);
    changed = true;
  }
  if (!changed) return entries as LogEntry<T>[];
  return [...byOffset.values()].sort((a, b) => a.offset - b.offset).slice(-limit);
}

/**
 * Subscribes to an ordered channel and keeps its newest messages: the channel's history
 * is read on open and again whenever a reconnect could not recover what was missed, so a
 * page that opens or reloads shows what the channel keeps, and live messages are merged
 * in by offset (never twice, never out of order).
 */
export function useChannelLog<T>(channel: string, options: ChannelLogOptions<T>): ChannelLog<T> {
  const limit = options.limit ?? 50;
  const parse = options.parse;
  const state = useSignal<ChannelLog<T> | null>(null);
  if (state.value === null) {
    const entries = signal<LogEntry<T>[]>([]);
    state.value = {
      entries,
      status: signal("loading"),
      error: signal(null),
      rejected: signal(0),
      add: (entry) => entries.value = mergeEntries(entries.value, [entry], limit),
    };
  }
  const s = state.value;
  useEffect(() => {
    const { client } = pageClient();
    let active = true;
    const accept = (
      data: unknown,
      offset: number | undefined,
      ts: number,
      from?: string,
      fromName?: string,
    ): LogEntry<T> | null => {
      if (offset === undefined) return null;
      const parsed = parse(data);
      if (parsed === null) {
        s.rejected.value++;
        return null;
      }
      const entry: LogEntry<T> = { data: parsed, offset, ts };
      if (from) entry.from = from;
      if (fromName) entry.fromName = fromName;
      return entry;
    };
    const load = () => {
      client.history(channel, { limit }).then((page) => {
        if (!active) return;
        const loaded = page.messages
          .map((m) => accept(m.data, m.offset, m.ts, m.from, m.fromName))
          .filter((e): e is LogEntry<T> => e !== null);
        s.entries.value = mergeEntries(s.entries.value, loaded, limit);
        s.status.value = "live";
      }, (err: Error) => {
        if (!active) return;
        // The live stream goes on; only the older messages are missing.
        s.status.value = "live";
        s.error.value = `Earlier messages could not be loaded (${err.message})`;
      });
    };
    const sub = client.subscribe<unknown>(channel, {
      onMessage(data, meta) {
        const entry = accept(data, meta.offset, meta.ts, meta.from, meta.fromName);
        if (entry) s.entries.value = mergeEntries(s.entries.value, [entry], limit);
      },
      onSubscribed({ recovered }) {
        // First subscribe, or a reconnect that could not replay: read the history.
        if (recovered !== true) load();
      },
      onReset() {
        s.entries.value = [];
      },
      onError(error) {
        s.status.value = "error";
        s.error.value = error.message;
      },
    });
    return () => {
      active = false;
      sub.unsubscribe();
    };
  }, [channel]);
  return s;
}

/** Who is present on a channel, kept current by join and leave events. */
export interface PresenceSignals {
  members: Signal<PresenceMember[]>;
  /** Members in all (the list may be truncated by the server). */
  count: Signal<number>;
}

/**
 * The members of a presence channel: listed when the subscription is confirmed (again
 * after every reconnect), then updated by `join` / `leave`.
 */
export function usePresence(channel: string): PresenceSignals {
  const state = useSignal<PresenceSignals | null>(null);
  if (state.value === null) state.value = { members: signal([]), count: signal(0) };
  const s = state.value;
  useEffect(() => {
    const { client } = pageClient();
    let active = true;
    const sub = client.subscribe<unknown>(channel, {
      onMessage() {},
      onSubscribed() {
        client.presence(channel).then((list) => {
          if (!active) return;
          s.members.value = list.members;
          s.count.value = list.count;
        }, () => {/* the list stays as it was; join / leave keep it moving */});
      },
      onJoin(member) {
        if (s.members.value.some((m) => m.userId === member.userId)) return;
        s.members.value = [...s.members.value, { ...member, connections: 1 }];
        s.count.value++;
      },
      onLeave(member) {
        const before = s.members.value.length;
        s.members.value = s.members.value.filter((m) => m.userId !== member.userId);
        if (s.members.value.length < before) s.count.value = Math.max(0, s.count.value - 1);
      },
    });
    return () => {
      active = false;
      sub.unsubscribe();
    };
  }, [channel]);
  return s;
}
