/**
 * The only thing the hub knows about a socket. The Deno adapter wraps a `WebSocket`;
 * tests use a fake that records frames.
 */
export interface Transport {
  /** Queues one frame (text for JSON, binary for MessagePack). Must not throw once closed. */
  send(frame: string | Uint8Array): void;
  /** Closes the connection with a WebSocket close code and a short reason. */
  close(code: number, reason: string): void;
  /** Bytes queued but not yet written to the network. */
  readonly bufferedAmount: number;
  /**
   * Bytes of earlier tasks handed to the socket and not yet written to the network (the
   * frames of the current task, held for one batched write, do not count). Flow control holds
   * latest values while it is above `FlowOptions.backlogBytes`; a transport without it is
   * judged by the other signals only.
   */
  readonly backlog?: number;
}
