/** Public types of the client SDK. Defaults live in `options.ts` (`CLIENT_DEFAULTS`). */
import type { ErrorCode } from "../protocol/codes.ts";
import type { Position, RecoveryOutcome } from "../protocol/position.ts";

export type { Position, RecoveryOutcome } from "../protocol/position.ts";

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

/** Wire formats: JSON text frames or MessagePack binary frames. */
export type CodecName = "json" | "msgpack";

/** The subset of the WebSocket API the client uses (browsers' and Deno's both fit). */
export interface WebSocketLike {
  readonly readyState: number;
  /**
   * The subprotocol the server chose (`""` for none). When present it decides the codec:
   * a server that echoed no `realtime.v1.msgpack` is spoken to in JSON.
   */
  readonly protocol?: string;
  /** Set to `"arraybuffer"` by the client so binary frames arrive as `ArrayBuffer`. */
  binaryType?: "blob" | "arraybuffer";
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: Event) => unknown) | null;
  onmessage: ((ev: MessageEvent) => unknown) | null;
  onclose: ((ev: CloseEvent) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
}

/**
 * Creates the socket of one connection attempt. `token` is the access token from
 * `getToken` (undefined without it); `protocols` are the subprotocols to offer (the
 * codec's, e.g. `realtime.v1.json`) — pass them on, or the server speaks JSON.
 */
export type CreateSocket = (url: string, token?: string, protocols?: string[]) => WebSocketLike;

/** Timer functions, injectable for tests with a fake clock. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

/** Where the offline queue is persisted: browsers pass `localStorage`. */
export interface OutboxStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Callbacks of one channel subscription. */
/** Where and when a message was published, and by whom (from the `message` frame). */
export interface MessageMeta {
  /** Server time of the publish, ms since the epoch. */
  ts: number;
  /** The message's offset in the channel (channels with history). */
  offset?: number;
  epoch?: string;
  /** The publishing user's id, attached by the server (client publishes only). */
  from?: string;
  /**
   * The publishing user's account name, attached by the server (client publishes only):
   * the sender to show. A name inside the message's data is whatever the sender typed.
   */
  fromName?: string;
}

export interface SubscriptionHandlers<T> {
  /** Each published message, in order, with its position and sender. */
  onMessage(data: T, meta: MessageMeta): void;
  /** The channel's current state, sent by the server on every (re)subscribe. */
  onSnapshot?(data: T): void;
  /**
   * Local state built from messages is stale: after a reconnect the server could not
   * replay what was missed (history too short or lost), or a live message arrived in a
   * new epoch (the channel's history expired or was lost, offsets start again at 1). A
   * snapshot follows when the channel has one; otherwise reload the state from its source.
   */
  onReset?(): void;
  /**
   * The server confirmed the (re)subscription; `recovered` is set when it answered a
   * recovery position (`true`: the missed messages follow), `position` when the server
   * keeps positions (a bus).
   */
  onSubscribed?(info: Partial<RecoveryOutcome>): void;
  /** The server refused the subscription. */
  onError?(error: { code: string; message: string }): void;
  /** A user joined a presence channel (their first connection subscribed). */
  onJoin?(member: { userId: string; name: string }): void;
  /** A user left a presence channel (their last connection unsubscribed or closed). */
  onLeave?(member: { userId: string; name: string }): void;
}

/** Options of one `subscribe()`. */
export interface SubscribeOptions {
  /**
   * Ask the server to send messages after the first as patches against the previous one
   * (docs/PROTOCOL.md, "Delta messages"): fewer bytes when successive values differ
   * little. The SDK rebuilds every full value, so handlers see no difference. Honoured on
   * latest-value channels only (the server ignores it elsewhere). Default false.
   */
  delta?: boolean;
}

/** The members of a presence channel (the answer to `presence()`). */
export interface PresenceList {
  /** Members in all. */
  count: number;
  /** The members listed (at most the server's `maxPresenceMembers`). */
  members: { userId: string; name: string; connections: number }[];
  /** True when `members` is not the whole set. */
  truncated: boolean;
}

/**
 * Where the server committed a publish (from its `ack`): the message's offset in the
 * channel's history and the channel's epoch at that offset, on servers that keep them.
 */
export type PublishResult = Partial<Position>;

/** An optimistic local change made by {@linkcode PublishOptions.optimistic}. */
export interface Optimistic {
  /** Called at once, when `publish()` is called. */
  apply(): void;
  /** Called if the publish finally fails (never after a success). */
  rollback(): void;
}

/** Options of one `publish()`. */
export interface PublishOptions {
  /** A local change applied at once and rolled back if the publish finally fails. */
  optimistic?: Optimistic;
}

/**
 * Why a publish failed: a server error code (`forbidden`, `payload_too_large`,
 * `rate_limited` after the last retry…) or one of the client's own:
 * - `queue_full`: `maxQueue` publishes were already waiting for their ack;
 * - `ack_timeout`: no ack after `publishRetries` resends, `ackTimeoutMs` each;
 * - `frame_too_large`: the encoded frame exceeds the server's `maxFrameBytes`;
 * - `cancelled`: dropped by `clearOutbox()`.
 */
export type PublishErrorCode =
  | ErrorCode
  | "queue_full"
  | "ack_timeout"
  | "frame_too_large"
  | "cancelled";

/** How a publish ended, emitted by `onPublishSettled` for every publish. */
export type PublishSettlement =
  | { id: string; channel: string; ok: true; result: PublishResult }
  | { id: string; channel: string; ok: false; error: PublishFailure };

/** The error of a failed publish (the `PublishError` class implements it). */
export interface PublishFailure extends Error {
  readonly code: PublishErrorCode;
  readonly channel: string;
  /** The publish id (the same on every resend). */
  readonly id: string;
}

/** One message of a {@linkcode HistoryPage}. */
export interface HistoryMessage<T> {
  data: T;
  /** Its offset in the channel. */
  offset: number;
  epoch: string;
  /** Server time of the publish, ms since the epoch. */
  ts: number;
  /** The publishing user's id (client publishes only). */
  from?: string;
  /** The publishing user's account name, attached by the server (client publishes only). */
  fromName?: string;
}

/**
 * A page of a channel's history, from `history()`: the channel's position now (messages
 * may be older: they are the newest kept) and the messages, oldest first.
 */
export interface HistoryPage<T> extends Position {
  /** Oldest first. */
  messages: HistoryMessage<T>[];
}

/** Options of one `history()` call. */
export interface HistoryOptions {
  /** Messages at most, 1–100. Default 50. */
  limit?: number;
  /** Only messages with an offset below this one (page back with the oldest offset seen). */
  before?: number;
  /** Overrides `requestTimeoutMs` for this call. */
  timeoutMs?: number;
}

/**
 * Why a request (`history()`) failed: a server error code (`forbidden`, `unauthorized`,
 * `unknown_channel`, `rate_limited`, `internal`…) or one of the client's own:
 * - `timeout`: no reply (or no connection) within the request's timeout;
 * - `disconnected`: the connection dropped after the request was sent, before the reply;
 * - `queue_full`: too many requests were already waiting.
 */
export type RequestErrorCode = ErrorCode | "timeout" | "disconnected" | "queue_full";

/** The error of a failed request (the `RequestError` class implements it). */
export interface RequestFailure extends Error {
  readonly code: RequestErrorCode;
  /** The request's type, e.g. `"history"`. */
  readonly request: string;
  readonly channel: string;
  readonly id: string;
  /** Whether asking again later may succeed. */
  readonly temporary: boolean;
}

/** Connection quality, for status indicators. Times are `timers.now()` values. */
export interface ConnectionQuality {
  /** Round trip of the last answered client `ping`, ms; null until measured or when down. */
  rttMs: number | null;
  /** Successful reconnects since the client was created. */
  reconnects: number;
  /** When the current connection opened; null when not connected. */
  connectedSince: number | null;
  /** When the last frame from the server arrived; null before the first. */
  lastMessageAt: number | null;
}

/** Options of {@linkcode RealtimeClient}. Every optional field has a default. */
export interface ClientOptions {
  /** `ws:` / `wss:` URL of the gateway, e.g. `wss://example.com/api/ws`. */
  url: string;
  /** Reconnect backoff base, ms. Default 500. */
  minReconnectDelayMs?: number;
  /** Reconnect backoff cap, ms. Default 20 000. */
  maxReconnectDelayMs?: number;
  /**
   * Creates sockets. Default `new WebSocket(url, protocols)`, plus a
   * `bearer.<token>` subprotocol when `getToken` gave a token.
   */
  createSocket?: CreateSocket;
  /** Wire format to offer (`realtime.v1.<codec>`). Default `"json"`. */
  codec?: CodecName;
  /**
   * Whether to offer the batching variant of the codec first (`realtime.v1.<codec>.batch`:
   * the server may put several messages in one frame — docs/PROTOCOL.md, "Batched frames").
   * A server without it picks the plain codec, offered second. Default true.
   */
  batch?: boolean;
  /**
   * Whether `subscribe()` asks for delta messages when its options do not say
   * ({@linkcode SubscribeOptions.delta}). Safe on any channel: the server honours it on
   * latest-value channels only. Default false.
   */
  delta?: boolean;
  /**
   * Returns a fresh access token. Without it (default) the connection uses what the
   * socket carries (a cookie, headers set in `createSocket`) and never refreshes in band.
   * With it: a token is fetched before connecting (again after a close 4003, when the
   * known expiry is near, or when the last attempt failed before `connected`), passed to
   * `createSocket`, and refreshed in band on `expiring` and 30 s before `expiresAt`.
   */
  getToken?: () => Promise<string>;
  /** How long to wait for a publish's `ack` before resending it, ms. Default 10 000. */
  ackTimeoutMs?: number;
  /**
   * How long a request (`history()`) may take in all — waiting for a connection, then
   * for the reply — before it fails with `timeout`, ms. Default 10 000.
   */
  requestTimeoutMs?: number;
  /** Resends of one publish (after ack timeouts or temporary errors). Default 3. */
  publishRetries?: number;
  /**
   * Publishes not yet acknowledged (queued offline or in flight) at most; one more
   * fails with `queue_full`. Default 100.
   */
  maxQueue?: number;
  /** Persists the offline queue (e.g. `localStorage`). Default none: in memory only. */
  storage?: OutboxStorage;
  /** Key of the persisted queue in `storage`. Default `"realtime:outbox"`. */
  storageKey?: string;
  /** Interval of the client's RTT `ping`, ms; 0 turns it off. Default 15 000. */
  pingIntervalMs?: number;
  /** Timers; default the global ones and `Date.now`. */
  timers?: Timers;
  /** Random source for jitter; default `Math.random`. */
  random?: () => number;
}
