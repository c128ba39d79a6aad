/**
 * The only thing the hub knows about a socket. The Deno adapter wraps a `WebSocket`;
 * tests use a fake that records frames.
 */
export interface Transport {
  /** Queues one frame for sending. Must not throw once the transport is closed. */
  send(frame: string): void;
  /** Closes the connection with a WebSocket close code and a short reason. */
  close(code: number, reason: string): void;
  /** Bytes queued but not yet written to the network. */
  readonly bufferedAmount: number;
}
