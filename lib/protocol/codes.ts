/**
 * Named error codes carried by `error` frames.
 *
 * `temporary: true` means the same request may succeed if repeated later; `false` means
 * it will fail again until the client changes it.
 */
export const ErrorCode = {
  /** The frame was not valid JSON (or not a text frame where text was expected). */
  BadFrame: "bad_frame",
  /** The frame parsed but did not match any known message shape. */
  BadMessage: "bad_message",
  /** The message type is not one the server understands. */
  UnknownType: "unknown_type",
  /** The channel name is malformed or names no known namespace. */
  UnknownChannel: "unknown_channel",
  /** The request is well formed but the server failed to carry it out. */
  Internal: "internal",
} as const;

/** One of the {@linkcode ErrorCode} values. */
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode];

/** Whether an error code is temporary (retrying the same request may succeed). */
export const ERROR_TEMPORARY: Readonly<Record<ErrorCode, boolean>> = {
  bad_frame: false,
  bad_message: false,
  unknown_type: false,
  unknown_channel: false,
  internal: true,
};

/**
 * WebSocket close codes. 4000–4499 tell the client to reconnect (with backoff);
 * 4500–4999 are terminal: the client must not reconnect without changing something.
 */
export const CloseCode = {
  /** Normal closure requested by either side. */
  Normal: 1000,
  /** The server is shutting down or restarting; reconnect with backoff. */
  ServerRestart: 4000,
} as const;

/** One of the {@linkcode CloseCode} values. */
export type CloseCode = typeof CloseCode[keyof typeof CloseCode];

/** True when a close code tells a client to reconnect. */
export function shouldReconnect(code: number): boolean {
  if (code >= 4500 && code <= 4999) return false;
  return true;
}
