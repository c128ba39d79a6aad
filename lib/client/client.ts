/**
 * The real-time client: one socket, a connection state machine, full-jitter reconnects,
 * and subscriptions that re-subscribe themselves after every reconnect.
 */
import { shouldReconnect } from "../protocol/codes.ts";
import type { ServerMessage } from "../protocol/messages.ts";
import { backoffDelay } from "./backoff.ts";
import type {
  ClientOptions,
  ConnectionState,
  StateChange,
  SubscriptionHandlers,
  Timers,
  WebSocketLike,
} from "./types.ts";

const OPEN = 1;

const defaultTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as number),
  now: () => Date.now(),
};

/** A live subscription; call `unsubscribe()` to stop it. */
export interface Subscription {
  readonly channel: string;
  unsubscribe(): void;
}

type Listener = (change: StateChange) => void;

/** A connection to the gateway. */
export class RealtimeClient {
  #options: ClientOptions;
  #timers: Timers;
  #state: ConnectionState = "disconnected";
  #socket: WebSocketLike | null = null;
  #retryTimer: unknown = null;
  #attempt = 0;
  #nextRetryAt: number | null = null;
  #listeners = new Set<Listener>();
  #channels = new Map<string, Set<SubscriptionHandlers<unknown>>>();
  /** Last position seen per channel: sent as `since` when re-subscribing. */
  #positions = new Map<string, { epoch: string; offset: number }>();
  /** Request id → channel, for subscribe requests awaiting their reply. */
  #pending = new Map<string, string>();
  #nextId = 0;
  #heartbeat: { intervalMs: number; timeoutMs: number } | null = null;
  #deadLinkTimer: unknown = null;

  constructor(options: ClientOptions) {
    this.#options = options;
    this.#timers = options.timers ?? defaultTimers;
  }

  /** The current state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Failed connection attempts since the last successful connect. */
  get attempt(): number {
    return this.#attempt;
  }

  /** When the next reconnect attempt is scheduled (ms since epoch), or null. */
  get nextRetryAt(): number | null {
    return this.#nextRetryAt;
  }

  /** Listens to state changes; returns a function that stops listening. */
  onStateChange(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Opens the connection. Idempotent. */
  connect(): void {
    if (this.#state === "connecting" || this.#state === "connected") return;
    if (this.#state === "reconnecting") {
      // Skip the remaining wait (e.g. the browser came back online).
      this.#clearRetry();
      return this.#open();
    }
    this.#attempt = 0;
    this.#setState("connecting");
    this.#open();
  }

  /** Closes the connection and stops reconnecting. Idempotent. */
  disconnect(): void {
    this.#clearRetry();
    if (this.#deadLinkTimer !== null) this.#timers.clearTimeout(this.#deadLinkTimer);
    this.#deadLinkTimer = null;
    const socket = this.#socket;
    this.#socket = null;
    if (socket) {
      socket.onclose = null;
      socket.close(1000, "client disconnect");
    }
    if (this.#state !== "disconnected") this.#setState("disconnected");
  }

  /** Subscribes to `channel`; survives reconnects. */
  subscribe<T>(channel: string, handlers: SubscriptionHandlers<T>): Subscription {
    let set = this.#channels.get(channel);
    const first = !set;
    if (!set) this.#channels.set(channel, set = new Set());
    const h = handlers as SubscriptionHandlers<unknown>;
    set.add(h);
    if (first) this.#sendSubscribe(channel);
    return {
      channel,
      unsubscribe: () => {
        const current = this.#channels.get(channel);
        if (!current?.delete(h) || current.size > 0) return;
        this.#channels.delete(channel);
        this.#positions.delete(channel);
        this.#send({ type: "unsubscribe", channel });
      },
    };
  }

  #open(): void {
    const create = this.#options.createSocket ?? ((url: string) => new WebSocket(url));
    let socket: WebSocketLike;
    try {
      socket = create(this.#options.url);
    } catch {
      return this.#scheduleReconnect();
    }
    this.#socket = socket;
    socket.onopen = () => {
      this.#attempt = 0;
      this.#nextRetryAt = null;
      this.#setState("connected");
      this.#pending.clear();
      for (const channel of this.#channels.keys()) this.#sendSubscribe(channel);
    };
    socket.onmessage = (event) => {
      if (typeof event.data === "string") this.#receive(event.data);
    };
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      if (shouldReconnect(event.code)) return this.#scheduleReconnect();
      if (this.#deadLinkTimer !== null) this.#timers.clearTimeout(this.#deadLinkTimer);
      this.#deadLinkTimer = null;
      this.#setState("closed");
    };
    socket.onerror = () => {};
  }

  #receive(frame: string): void {
    let message: ServerMessage;
    try {
      message = JSON.parse(frame);
    } catch {
      return;
    }
    this.#armDeadLink();
    if (message.type === "message") {
      if (message.offset !== undefined && message.epoch !== undefined) {
        const seen = this.#positions.get(message.channel);
        // A replay and the live stream may overlap by a message: deliver each offset once.
        if (seen && seen.epoch === message.epoch && message.offset <= seen.offset) return;
        this.#positions.set(message.channel, { epoch: message.epoch, offset: message.offset });
      }
      for (const h of this.#channels.get(message.channel) ?? []) h.onMessage(message.data);
    } else if (message.type === "ping") {
      this.#send({ type: "pong" });
    } else if (message.type === "connected") {
      this.#heartbeat = message.data.heartbeat;
      this.#armDeadLink();
    } else if (message.type === "subscribed") {
      const { epoch, offset, recovered, snapshot } = message.data;
      // Recovered: the replay that follows advances our position message by message.
      // Otherwise the stream continues after the server's position.
      if (epoch !== undefined && offset !== undefined && recovered !== true) {
        this.#positions.set(message.channel, { epoch, offset });
      }
      for (const h of this.#channels.get(message.channel) ?? []) {
        h.onSubscribed?.({ recovered });
        if (recovered === false) h.onReset?.();
        if (snapshot !== undefined) h.onSnapshot?.(snapshot);
      }
    } else if (message.type === "error" && message.id !== undefined) {
      const channel = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (channel === undefined) return;
      // The server refused the subscription: it will not start existing by retrying.
      const handlers = this.#channels.get(channel) ?? [];
      this.#channels.delete(channel);
      for (const h of handlers) h.onError?.(message.data);
    }
    if ("id" in message && message.id !== undefined && message.type !== "error") {
      this.#pending.delete(message.id);
    }
  }

  /**
   * A link is dead when the server, which pings every `intervalMs`, has sent nothing
   * for `intervalMs + timeoutMs`: drop the socket and reconnect.
   */
  #armDeadLink(): void {
    if (this.#deadLinkTimer !== null) this.#timers.clearTimeout(this.#deadLinkTimer);
    this.#deadLinkTimer = null;
    const hb = this.#heartbeat;
    const socket = this.#socket;
    if (!hb || !socket) return;
    this.#deadLinkTimer = this.#timers.setTimeout(() => {
      this.#deadLinkTimer = null;
      if (this.#socket !== socket) return;
      this.#socket = null;
      socket.onclose = null;
      socket.close(4002, "no ping from server");
      this.#scheduleReconnect();
    }, hb.intervalMs + hb.timeoutMs);
  }

  #scheduleReconnect(): void {
    if (this.#deadLinkTimer !== null) this.#timers.clearTimeout(this.#deadLinkTimer);
    this.#deadLinkTimer = null;
    const delay = backoffDelay(
      this.#attempt,
      { minMs: this.#options.minReconnectDelayMs, maxMs: this.#options.maxReconnectDelayMs },
      this.#options.random,
    );
    this.#attempt++;
    this.#nextRetryAt = this.#timers.now() + delay;
    this.#setState("reconnecting");
    this.#retryTimer = this.#timers.setTimeout(() => {
      this.#retryTimer = null;
      this.#open();
    }, delay);
  }

  #clearRetry(): void {
    if (this.#retryTimer !== null) this.#timers.clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#nextRetryAt = null;
  }

  #sendSubscribe(channel: string): void {
    if (this.#socket?.readyState !== OPEN) return;
    const id = `s${++this.#nextId}`;
    this.#pending.set(id, channel);
    const since = this.#positions.get(channel);
    this.#send({ type: "subscribe", id, channel, ...(since ? { since } : {}) });
  }

  #send(message: { type: string; id?: string; channel?: string; since?: unknown }): void {
    if (this.#socket?.readyState === OPEN) this.#socket.send(JSON.stringify({ v: 1, ...message }));
  }

  #setState(newState: ConnectionState): void {
    const oldState = this.#state;
    if (oldState === newState) return;
    this.#state = newState;
    for (const listener of this.#listeners) listener({ oldState, newState });
  }
}
