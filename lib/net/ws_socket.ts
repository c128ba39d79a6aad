/**
 * A server WebSocket over a TCP connection we own (RFC 6455), with the bounds the
 * runtime's `Deno.upgradeWebSocket` cannot give us:
 *
 * - every client frame is checked as it arrives: a declared length over the limit closes
 *   with 1009 at the frame header; protocol violations close with 1002, invalid UTF-8
 *   with 1007 (lib/net/ws_frames.ts);
 * - a frame (or fragmented message) must complete within `frameTimeoutMs` of its first
 *   byte (else 1008), and the room it takes beyond the resting read buffer is reserved
 *   from a budget shared by every socket of the isolate (else 1013);
 * - closing is a lingering close: after our close frame the socket keeps reading (and
 *   discarding) until the peer's close frame, so a client that is still sending gets the
 *   close frame instead of a reset; the TCP connection is closed when the peer answers or
 *   `closeTimeoutMs` after our close frame, whether or not the peer reads.
 *
 * It has the part of the `WebSocket` interface the gateway adapter uses (`readyState`,
 * `send`, `close`, `bufferedAmount`, `onopen` / `onmessage` / `onclose`).
 */
import { encodeClose, encodeFrame, encodeText, FrameReader, Opcode, WsClose } from "./ws_frames.ts";

/** The byte stream a {@linkcode ServerWebSocket} runs on (a `Deno.Conn`). */
export interface ByteStream {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
}

/** Options of {@linkcode ServerWebSocket}. */
export interface ServerWebSocketOptions {
  /** Largest client message, bytes (all fragments together). */
  maxMessageBytes: number;
  /** A started frame or fragmented message must complete within this, ms. */
  frameTimeoutMs: number;
  /** After our close frame, the peer has this long to answer before the TCP close, ms. */
  closeTimeoutMs: number;
  /** The negotiated subprotocol (echoed by the caller in the 101 response). */
  protocol?: string;
  /** Shared budget for partial frames; see `FrameReaderOptions.reserve`. */
  reserve?: (bytes: number) => boolean;
  /** Resting size of the read buffer, bytes. Default 4 096. */
  readBufferBytes?: number;
  /** Called when the client broke the protocol (before the close frame goes out). */
  onViolation?(code: number, reason: string): void;
  /** Called once the TCP connection is closed, after `onclose` (the guard's bookkeeping). */
  onEnd?(): void;
}

/** The `message` event: text as a string, binary as bytes. */
export interface WsMessageEvent {
  data: string | Uint8Array;
}

/** The `close` event, once the TCP connection is closed. */
export interface WsCloseEvent {
  code: number;
  reason: string;
  /** Whether both close frames were exchanged. */
  wasClean: boolean;
}

/** Frames written in one go at most (smaller frames queued together are coalesced). */
const COALESCE_BYTES = 64 * 1024;

/** A server-side WebSocket on a connection whose handshake the caller completes. */
export class ServerWebSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;

  onopen: (() => void) | null = null;
  onmessage: ((event: WsMessageEvent) => void) | null = null;
  onclose: ((event: WsCloseEvent) => void) | null = null;
  /** Never called (kept for the `WebSocket` shape): every failure ends in `onclose`. */
  onerror: (() => void) | null = null;
  /** Accepted for the `WebSocket` shape; binary messages are always `Uint8Array`. */
  binaryType = "arraybuffer";
  readonly protocol: string;

  #conn: ByteStream;
  #options: ServerWebSocketOptions;
  #reader: FrameReader;
  #state = ServerWebSocket.CONNECTING;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #writing = false;
  /** Close the TCP connection once the write queue is empty (the handshake is done). */
  #endAfterFlush = false;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #frameTimer: ReturnType<typeof setTimeout> | undefined;
  /** What `onclose` reports: the code we sent, or the peer's. */
  #closeCode: number = WsClose.Abnormal;
  #closeReason = "";
  #clean = false;

  constructor(conn: ByteStream, options: ServerWebSocketOptions, pending?: Uint8Array) {
    this.#conn = conn;
    this.#options = options;
    this.protocol = options.protocol ?? "";
    this.#reader = new FrameReader({
      maxMessageBytes: options.maxMessageBytes,
      initialBytes: options.readBufferBytes,
      reserve: options.reserve,
    });
    if (pending && pending.length > 0) this.#preload(pending);
  }

  /** 0 connecting, 1 open, 2 closing, 3 closed (as `WebSocket.readyState`). */
  get readyState(): number {
    return this.#state;
  }

  /** Bytes queued but not yet written to the connection. */
  get bufferedAmount(): number {
    return this.#queued;
  }

  /**
   * Writes the handshake response (`head`: the 101 with its headers), opens the socket
   * (`onopen` runs now) and starts reading.
   */
  start(head: Uint8Array): void {
    if (this.#state !== ServerWebSocket.CONNECTING) return;
    this.#enqueue(head);
    this.#state = ServerWebSocket.OPEN;
    this.onopen?.();
    // Frames that came with the handshake (a pipelining client) are handled first.
    this.#drainEvents();
    if (this.#state !== ServerWebSocket.CLOSED) this.#readLoop();
  }

  /** Queues a text (string) or binary frame. Dropped unless open. */
  send(data: string | Uint8Array | ArrayBuffer): void {
    if (this.#state !== ServerWebSocket.OPEN) return;
    if (typeof data === "string") this.#enqueue(encodeText(data));
    else this.#enqueue(encodeFrame(Opcode.Binary, new Uint8Array(data)));
  }

  /**
   * Starts the closing handshake with `code` and `reason`: the close frame goes after what
   * is queued; the TCP connection closes when the peer answers or after `closeTimeoutMs`.
   */
  close(code: number = WsClose.Normal, reason = ""): void {
    if (this.#state === ServerWebSocket.CONNECTING) {
      this.#destroy(code, reason, false);
      return;
    }
    if (this.#state !== ServerWebSocket.OPEN) return;
    this.#state = ServerWebSocket.CLOSING;
    this.#closeCode = code;
    this.#closeReason = reason;
    this.#clearFrameTimer();
    this.#enqueue(encodeClose(code, reason));
    this.#closeTimer = setTimeout(
      () => this.#destroy(this.#closeCode, this.#closeReason, false),
      this.#options.closeTimeoutMs,
    );
  }

  /** Closes the TCP connection now, without a handshake (server shutdown, tests). */
  terminate(): void {
    this.#destroy(this.#closeCode, this.#closeReason, false);
  }

  #preload(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      const space = this.#reader.space();
      if (space.length === 0) break;
      const n = Math.min(space.length, bytes.length - at);
      space.set(bytes.subarray(at, at + n));
      this.#reader.commit(n);
      at += n;
    }
  }

  async #readLoop(): Promise<void> {
    while (this.#state !== ServerWebSocket.CLOSED) {
      const space = this.#reader.space();
      let n: number | null;
      try {
        n = await this.#conn.read(space);
      } catch {
        n = null;
      }
      if (this.#state === ServerWebSocket.CLOSED) return;
      if (n === null) {
        // The peer went away: a clean end only if the close frames were exchanged.
        this.#destroy(this.#closeCode, this.#closeReason, false);
        return;
      }
      this.#reader.commit(n);
      this.#drainEvents();
    }
  }

  /** Handles every complete event the reader holds, then arms or clears the frame timer. */
  #drainEvents(): void {
    for (let event = this.#reader.next(); event; event = this.#reader.next()) {
      if (this.#state === ServerWebSocket.CLOSED) return;
      switch (event.kind) {
        case "text":
        case "binary":
          // While closing, data is read and dropped: that is what lets the close frame through.
          if (this.#state === ServerWebSocket.OPEN) this.onmessage?.({ data: event.data });
          break;
        case "ping":
          if (this.#state === ServerWebSocket.OPEN) {
            this.#enqueue(encodeFrame(Opcode.Pong, event.data));
          }
          break;
        case "pong":
          break;
        case "close":
          this.#peerClosed(event.code, event.reason);
          return;
        case "violation":
          this.#options.onViolation?.(event.code, event.reason);
          if (this.#state === ServerWebSocket.OPEN) this.close(event.code, event.reason);
          else this.#destroy(this.#closeCode, this.#closeReason, false);
          return;
      }
    }
    if (this.#state !== ServerWebSocket.OPEN) return;
    if (this.#reader.pendingBytes > 0) {
      this.#frameTimer ??= setTimeout(() => {
        this.#frameTimer = undefined;
        if (this.#state === ServerWebSocket.OPEN && this.#reader.pendingBytes > 0) {
          this.#options.onViolation?.(WsClose.PolicyViolation, "frame timeout");
          this.close(
            WsClose.PolicyViolation,
            `frame not completed within ${this.#options.frameTimeoutMs} ms`,
          );
        }
      }, this.#options.frameTimeoutMs);
    } else {
      this.#clearFrameTimer();
    }
  }

  #peerClosed(code: number, reason: string): void {
    if (this.#state === ServerWebSocket.OPEN) {
      // The peer started: answer with its code (an empty close when it sent none).
      this.#state = ServerWebSocket.CLOSING;
      this.#closeCode = code;
      this.#closeReason = reason;
      this.#clean = true;
      this.#clearFrameTimer();
      this.#enqueue(
        code === WsClose.NoStatus ? encodeFrame(Opcode.Close, new Uint8Array(0)) : encodeClose(
          code,
          reason,
        ),
      );
      this.#endAfterFlush = true;
      // A peer that does not read cannot take the answer: bounded like any close.
      this.#closeTimer = setTimeout(
        () => this.#destroy(this.#closeCode, this.#closeReason, true),
        this.#options.closeTimeoutMs,
      );
      return;
    }
    // Our close frame was answered: the handshake is complete, the server closes TCP.
    this.#destroy(this.#closeCode, this.#closeReason, true);
  }

  #enqueue(frame: Uint8Array): void {
    this.#queue.push(frame);
    this.#queued += frame.length;
    if (!this.#writing) this.#pump();
  }

  async #pump(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && this.#state !== ServerWebSocket.CLOSED) {
        const chunk = this.#take();
        let at = 0;
        while (at < chunk.length) {
          const n = await this.#conn.write(at === 0 ? chunk : chunk.subarray(at));
          if (this.#state === ServerWebSocket.CLOSED) return;
          at += n;
          this.#queued -= n;
        }
      }
    } catch {
      this.#destroy(this.#closeCode, this.#closeReason, false);
      return;
    } finally {
      this.#writing = false;
    }
    if (this.#endAfterFlush) this.#destroy(this.#closeCode, this.#closeReason, this.#clean);
  }

  /** The next bytes to write: one frame, or several small ones copied together. */
  #take(): Uint8Array {
    const first = this.#queue[0];
    if (this.#queue.length === 1 || first.length >= COALESCE_BYTES) {
      this.#queue.shift();
      return first;
    }
    let size = 0;
    let count = 0;
    for (const frame of this.#queue) {
      if (count > 0 && size + frame.length > COALESCE_BYTES) break;
      size += frame.length;
      count++;
    }
    const out = new Uint8Array(size);
    let at = 0;
    for (const frame of this.#queue.splice(0, count)) {
      out.set(frame, at);
      at += frame.length;
    }
    return out;
  }

  #clearFrameTimer(): void {
    if (this.#frameTimer !== undefined) clearTimeout(this.#frameTimer);
    this.#frameTimer = undefined;
  }

  #destroy(code: number, reason: string, clean: boolean): void {
    if (this.#state === ServerWebSocket.CLOSED) return;
    this.#state = ServerWebSocket.CLOSED;
    this.#clearFrameTimer();
    if (this.#closeTimer !== undefined) clearTimeout(this.#closeTimer);
    this.#reader.release();
    this.#queue = [];
    this.#queued = 0;
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
    try {
      this.onclose?.({ code, reason, wasClean: clean });
    } finally {
      this.#options.onEnd?.();
    }
  }
}
