/**
 * Named error codes (in `error` frames) and close codes (on the WebSocket).
 * docs/PROTOCOL.md documents each; this module is the executable list.
 */

/** Error codes carried by `error` frames. */
export const ErrorCode = {
  /** The frame could not be decoded (not JSON / MessagePack, or the wrong frame kind). */
  BadFrame: "bad_frame",
  /** The frame decoded but is not a message of a known shape. */
  BadMessage: "bad_message",
  /** The message type is not one the server understands. */
  UnknownType: "unknown_type",
  /** The channel name is malformed or names no known namespace or resource. */
  UnknownChannel: "unknown_channel",
  /** The connection's user may not do this on this channel. */
  Forbidden: "forbidden",
  /** The operation needs a signed-in user. */
  Unauthorized: "unauthorized",
  /** Too many messages: slow down (see `connected.limits`). */
  RateLimited: "rate_limited",
  /** The connection already has the maximum number of subscriptions. */
  TooManySubscriptions: "too_many_subscriptions",
  /** A published payload is larger than allowed. */
  PayloadTooLarge: "payload_too_large",
  /** The operation needs a subscription to the channel first. */
  NotSubscribed: "not_subscribed",
  /** An in-band token refresh failed: the token is invalid, expired or for another user. */
  BadToken: "bad_token",
  /** The server failed while handling a valid request. */
  Internal: "internal",
} as const;

/** One of the {@linkcode ErrorCode} values. */
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode];

/** Whether repeating the same request later may succeed. */
export const ERROR_TEMPORARY: Readonly<Record<ErrorCode, boolean>> = {
  bad_frame: false,
  bad_message: false,
  unknown_type: false,
  unknown_channel: false,
  forbidden: false,
  unauthorized: false,
  rate_limited: true,
  too_many_subscriptions: false,
  payload_too_large: false,
  not_subscribed: false,
  bad_token: false,
  internal: true,
};

/**
 * WebSocket close codes. 4000–4499: the client should reconnect with backoff (and may
 * recover missed messages). 4500–4999: terminal, the client must not reconnect without a
 * change (new credentials, a fixed client). Standard codes (1000–1015) reconnect.
 */
export const CloseCode = {
  /** Normal closure, requested by either side. */
  Normal: 1000,
  /** A frame was larger than `limits.maxFrameBytes`. */
  MessageTooBig: 1009,
  /** The server is shutting down or restarting. Reconnect. */
  ServerRestart: 4000,
  /** The client did not read fast enough; its outbound queue overflowed. Reconnect and recover. */
  SlowConsumer: 4001,
  /** No `pong` to the server's `ping` within the deadline. Reconnect. */
  HeartbeatTimeout: 4002,
  /** The connection's credential expired and was not refreshed. Reconnect with a new one. */
  TokenExpired: 4003,
  /** This isolate lost track of a channel's order (it fell behind the bus log). Reconnect and recover. */
  Reconnect: 4004,
  /** The refreshed token is invalid or belongs to another user. Terminal. */
  Unauthorized: 4500,
  /** No subscriptions and no messages for `limits.idleTimeoutMs`. Terminal. */
  IdleTimeout: 4501,
  /** Persistent message flood after `rate_limited` errors. Terminal. */
  Flood: 4502,
} as const;

/** One of the {@linkcode CloseCode} values. */
export type CloseCode = typeof CloseCode[keyof typeof CloseCode];

/** True when a close code tells a client to reconnect. */
export function shouldReconnect(code: number): boolean {
  return !(code >= 4500 && code <= 4999);
}
