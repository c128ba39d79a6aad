/** Public types of the client SDK. */

/** Connection states. Changes go through one place and emit {@linkcode StateChange}. */
export type ConnectionState =
  | "disconnected"
  | "connecting"
  | "connected"
  | "reconnecting"
  | "closed";

/** Emitted on every state change. */
export interface StateChange {
  oldState: ConnectionState;
  newState: ConnectionState;
}

/** The subset of the WebSocket API the client uses (browsers' and Deno's both fit). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: Event) => unknown) | null;
  onmessage: ((ev: MessageEvent) => unknown) | null;
  onclose: ((ev: CloseEvent) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
}

/** Timer functions, injectable for tests with a fake clock. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

/** Callbacks of one channel subscription. */
export interface SubscriptionHandlers<T> {
  /** Each published message, in order. */
  onMessage(data: T): void;
  /** The channel's current state, sent by the server on every (re)subscribe. */
  onSnapshot?(data: T): void;
  /**
   * After a reconnect the server could not replay what was missed (history too short or
   * lost): local state built from messages is stale. A snapshot follows when the channel
   * has one; otherwise reload the state from its source.
   */
  onReset?(): void;
  /**
   * The server confirmed the (re)subscription; `recovered` is set when it answered a
   * recovery position (`true`: the missed messages follow).
   */
  onSubscribed?(info: { recovered?: boolean }): void;
  /** The server refused the subscription. */
  onError?(error: { code: string; message: string }): void;
}

/** Options of {@linkcode RealtimeClient}. */
export interface ClientOptions {
  /** `ws:` / `wss:` URL of the gateway, e.g. `wss://example.com/api/ws`. */
  url: string;
  /** Reconnect backoff base, ms. Default 500. */
  minReconnectDelayMs?: number;
  /** Reconnect backoff cap, ms. Default 20 000. */
  maxReconnectDelayMs?: number;
  /** Creates sockets; default `new WebSocket(url)`. */
  createSocket?: (url: string) => WebSocketLike;
  /** Timers; default the global ones and `Date.now`. */
  timers?: Timers;
  /** Random source for jitter; default `Math.random`. */
  random?: () => number;
}
