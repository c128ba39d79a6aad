/**
 * RFC 6455 frames, server side: an incremental reader of client frames that checks every
 * rule at the moment the bytes arrive (a declared length over the limit is refused at the
 * frame header, not after the payload), and the encoder of server frames.
 *
 * The reader owns its buffer: the socket reads straight into {@linkcode FrameReader.space}
 * and reports the count with {@linkcode FrameReader.commit}. The buffer starts small and
 * grows only to hold one frame the header has declared (never beyond the limit), then
 * shrinks back once that frame is consumed.
 */

/** Opcodes of RFC 6455 §5.2. */
export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

/** Close codes the reader and the socket use (RFC 6455 §7.4.1). */
export const WsClose = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  NoStatus: 1005,
  Abnormal: 1006,
  InvalidData: 1007,
  PolicyViolation: 1008,
  TooBig: 1009,
  TryAgainLater: 1013,
} as const;

/** One complete event read from the client. */
export type FrameEvent =
  | { kind: "text"; data: string }
  | { kind: "binary"; data: Uint8Array }
  | { kind: "ping"; data: Uint8Array }
  | { kind: "pong" }
  | { kind: "close"; code: number; reason: string }
  /** The client broke the protocol: close the connection with `code`. */
  | { kind: "violation"; code: number; reason: string };

/** Options of {@linkcode FrameReader}. */
export interface FrameReaderOptions {
  /** Largest data message (all its fragments together), bytes. Larger → 1009 at the header. */
  maxMessageBytes: number;
  /**
   * Initial (and resting) size of the read buffer, bytes. Default 1 024: client frames are
   * small, and an idle socket keeps only this (a larger frame grows it, then it rests again).
   */
  initialBytes?: number;
  /**
   * Called before the buffer grows beyond its resting size with the number of extra
   * bytes; returns false to refuse (the reader then reports a 1013 violation). Called
   * with a negative number when those bytes are released.
   */
  reserve?: (bytes: number) => boolean;
}

const MAX_CONTROL_PAYLOAD = 125;
const MAX_HEADER_BYTES = 14;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Whether a close code may appear in a client's close frame (RFC 6455 §7.4, IANA registry). */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999);
}

/** Reads client frames from bytes as they arrive. */
export class FrameReader {
  #max: number;
  #rest: number;
  #reserve: (bytes: number) => boolean;
  #reserved = 0;
  #buf: Uint8Array;
  #start = 0;
  #end = 0;
  /** Fragments of a data message in progress, and its opcode (0 = none). */
  #fragments: Uint8Array[] = [];
  #fragmentBytes = 0;
  #messageOpcode = 0;
  #failed = false;

  constructor(options: FrameReaderOptions) {
    this.#max = options.maxMessageBytes;
    this.#rest = options.initialBytes ?? 1_024;
    this.#reserve = options.reserve ?? (() => true);
    this.#buf = new Uint8Array(this.#rest);
  }

  /**
   * Bytes received but not yet part of a complete frame or message: a partial frame, or
   * the fragments of an unfinished message. 0 between messages.
   */
  get pendingBytes(): number {
    return this.#end - this.#start + this.#fragmentBytes;
  }

  /**
   * Bytes held beyond the resting buffer (a large frame's room, stored fragments): what
   * `reserve` was asked for and not yet given back.
   */
  get reservedBytes(): number {
    return this.#reserved + this.#fragmentBytes;
  }

  /**
   * Where the next read may write; never empty while the reader holds a buffer. After a
   * violation, whatever arrives is dropped (the socket keeps reading until it closes).
   */
  space(): Uint8Array {
    if (this.#failed || this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#end === this.#buf.length && this.#start > 0) this.#compact(this.#buf);
    return this.#buf.subarray(this.#end);
  }

  /** Records that `n` bytes were written into {@linkcode space}. */
  commit(n: number): void {
    this.#end += n;
  }

  /** The next complete event, or null when more bytes are needed. */
  next(): FrameEvent | null {
    while (!this.#failed) {
      const event = this.#nextFrame();
      if (event !== "more" && event !== "skip") return event;
      if (event === "more") return null;
    }
    return null;
  }

  /** Releases what the reader holds (the socket is gone). */
  release(): void {
    if (this.#reserved > 0) this.#reserve(-this.#reserved);
    if (this.#fragmentBytes > 0) this.#reserve(-this.#fragmentBytes);
    this.#reserved = 0;
    this.#buf = new Uint8Array(0);
    this.#start = this.#end = 0;
    this.#fragments = [];
    this.#fragmentBytes = 0;
    this.#failed = true;
  }

  #violation(code: number, reason: string): FrameEvent {
    this.#failed = true;
    return { kind: "violation", code, reason };
  }

  /** Parses one frame at #start: an event, "skip" (a fragment was stored), or "more". */
  #nextFrame(): FrameEvent | "more" | "skip" {
    const b = this.#buf;
    const avail = this.#end - this.#start;
    if (avail < 2) return "more";
    const s = this.#start;
    const b0 = b[s];
    const b1 = b[s + 1];
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    if ((b0 & 0x70) !== 0) {
      return this.#violation(WsClose.ProtocolError, "reserved bits set without an extension");
    }
    const control = opcode >= 0x8;
    if (
      !(opcode <= Opcode.Binary || opcode === Opcode.Close || opcode === Opcode.Ping ||
        opcode === Opcode.Pong)
    ) {
      return this.#violation(WsClose.ProtocolError, `reserved opcode ${opcode}`);
    }
    if ((b1 & 0x80) === 0) {
      return this.#violation(WsClose.ProtocolError, "client frames must be masked");
    }
    let length = b1 & 0x7f;
    let header = 2;
    if (control) {
      if (!fin) return this.#violation(WsClose.ProtocolError, "fragmented control frame");
      if (length > MAX_CONTROL_PAYLOAD) {
        return this.#violation(WsClose.ProtocolError, "control frame payload over 125 bytes");
      }
    } else if (opcode === Opcode.Continuation) {
      if (this.#messageOpcode === 0) {
        return this.#violation(WsClose.ProtocolError, "continuation frame without a message");
      }
    } else if (this.#messageOpcode !== 0) {
      return this.#violation(WsClose.ProtocolError, "new message before the last one finished");
    }
    if (length === 126) {
      if (avail < 4) return "more";
      length = (b[s + 2] << 8) | b[s + 3];
      header = 4;
    } else if (length === 127) {
      if (avail < 10) return "more";
      if (b[s + 2] & 0x80) {
        return this.#violation(WsClose.ProtocolError, "64-bit length with the top bit set");
      }
      // Read the high 32 bits first: anything there is far over any limit we allow.
      const high = ((b[s + 2] << 24) | (b[s + 3] << 16) | (b[s + 4] << 8) | b[s + 5]) >>> 0;
      const low = ((b[s + 6] << 24) | (b[s + 7] << 16) | (b[s + 8] << 8) | b[s + 9]) >>> 0;
      length = high * 2 ** 32 + low;
      header = 10;
    }
    if (!control && this.#fragmentBytes + length > this.#max) {
      return this.#violation(
        WsClose.TooBig,
        `message of ${this.#fragmentBytes + length} bytes exceeds the limit of ${this.#max}`,
      );
    }
    const total = header + 4 + length;
    if (avail < total) {
      if (total > this.#buf.length - this.#start && !this.#ensure(total)) {
        return this.#violation(WsClose.TryAgainLater, "server busy: too many partial frames");
      }
      return "more";
    }
    const maskAt = s + header;
    const payload = b.subarray(maskAt + 4, s + total);
    unmask(payload, b[maskAt], b[maskAt + 1], b[maskAt + 2], b[maskAt + 3]);
    this.#start += total;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    if (control) return this.#control(opcode, payload);
    return this.#data(opcode, fin, payload);
  }

  #control(opcode: number, payload: Uint8Array): FrameEvent {
    if (opcode === Opcode.Ping) return { kind: "ping", data: payload.slice() };
    if (opcode === Opcode.Pong) return { kind: "pong" };
    if (payload.length === 0) return { kind: "close", code: WsClose.NoStatus, reason: "" };
    if (payload.length === 1) {
      return this.#violation(WsClose.ProtocolError, "close frame with a 1-byte payload");
    }
    const code = (payload[0] << 8) | payload[1];
    if (!isValidCloseCode(code)) {
      return this.#violation(WsClose.ProtocolError, `invalid close code ${code}`);
    }
    let reason: string;
    try {
      reason = strictUtf8.decode(payload.subarray(2));
    } catch {
      return this.#violation(WsClose.InvalidData, "close reason is not valid UTF-8");
    }
    return { kind: "close", code, reason };
  }

  #data(opcode: number, fin: boolean, payload: Uint8Array): FrameEvent | "skip" {
    if (opcode !== Opcode.Continuation) this.#messageOpcode = opcode;
    if (!fin) {
      if (!this.#reserve(payload.length)) {
        return this.#violation(WsClose.TryAgainLater, "server busy: too many partial messages");
      }
      this.#fragments.push(payload.slice());
      this.#fragmentBytes += payload.length;
      this.#settle();
      return "skip";
    }
    let data: Uint8Array;
    if (this.#fragments.length === 0) {
      data = payload;
    } else {
      data = new Uint8Array(this.#fragmentBytes + payload.length);
      let at = 0;
      for (const f of this.#fragments) {
        data.set(f, at);
        at += f.length;
      }
      data.set(payload, at);
      this.#reserve(-this.#fragmentBytes);
      this.#fragments = [];
      this.#fragmentBytes = 0;
    }
    const text = this.#messageOpcode === Opcode.Text;
    this.#messageOpcode = 0;
    if (text) {
      let decoded: string;
      try {
        decoded = strictUtf8.decode(data);
      } catch {
        return this.#violation(WsClose.InvalidData, "text message is not valid UTF-8");
      }
      this.#settle();
      return { kind: "text", data: decoded };
    }
    const copy = data.slice();
    this.#settle();
    return { kind: "binary", data: copy };
  }

  /** Makes room for a frame of `total` bytes at #start; false when the budget refuses. */
  #ensure(total: number): boolean {
    if (total <= this.#buf.length) {
      this.#compact(this.#buf);
      return true;
    }
    const size = Math.min(Math.max(total, this.#buf.length * 2), this.#max + MAX_HEADER_BYTES);
    return this.#resize(size);
  }

  /** Shrinks back to the resting size once no large frame is pending. */
  #settle(): void {
    if (this.#buf.length > this.#rest && this.#end - this.#start <= this.#rest) {
      this.#resize(this.#rest);
    }
  }

  #resize(size: number): boolean {
    const extra = Math.max(0, size - this.#rest);
    const delta = extra - this.#reserved;
    if (delta > 0 && !this.#reserve(delta)) return false;
    if (delta < 0) this.#reserve(delta);
    this.#reserved = extra;
    if (size !== this.#buf.length) this.#compact(new Uint8Array(size));
    return true;
  }

  #compact(into: Uint8Array): void {
    const n = this.#end - this.#start;
    into.set(this.#buf.subarray(this.#start, this.#end), 0);
    this.#buf = into;
    this.#start = 0;
    this.#end = n;
  }
}

/** XORs `data` in place with the 4-byte mask. */
function unmask(data: Uint8Array, m0: number, m1: number, m2: number, m3: number): void {
  const n = data.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    data[i] ^= m0;
    data[i + 1] ^= m1;
    data[i + 2] ^= m2;
    data[i + 3] ^= m3;
  }
  const mask = [m0, m1, m2, m3];
  for (; i < n; i++) data[i] ^= mask[i & 3];
}

const encoder = new TextEncoder();

/** An unmasked server frame (FIN set) with `payload`. */
export function encodeFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const header = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const frame = new Uint8Array(header + n);
  frame[0] = 0x80 | opcode;
  if (n < 126) {
    frame[1] = n;
  } else if (n < 65_536) {
    frame[1] = 126;
    frame[2] = n >> 8;
    frame[3] = n & 0xff;
  } else {
    frame[1] = 127;
    new DataView(frame.buffer).setBigUint64(2, BigInt(n));
  }
  frame.set(payload, header);
  return frame;
}

/** A close frame with `code` and `reason` (cut to fit 123 bytes of UTF-8). */
export function encodeClose(code: number, reason: string): Uint8Array {
  let bytes = encoder.encode(reason);
  if (bytes.length > 123) {
    let cut = 123;
    // Do not end inside a UTF-8 sequence.
    while (cut > 0 && (bytes[cut] & 0xc0) === 0x80) cut--;
    bytes = bytes.subarray(0, cut);
  }
  const payload = new Uint8Array(2 + bytes.length);
  payload[0] = code >> 8;
  payload[1] = code & 0xff;
  payload.set(bytes, 2);
  return encodeFrame(Opcode.Close, payload);
}

let lastText: string | undefined;
let lastTextFrame: Uint8Array | undefined;

/**
 * A text frame for `text`. A broadcast hands the same string to every socket in turn, so
 * the last frame is kept and reused (frames are never modified after encoding).
 */
export function encodeText(text: string): Uint8Array {
  if (text === lastText && lastTextFrame) return lastTextFrame;
  const frame = encodeFrame(Opcode.Text, encoder.encode(text));
  lastText = text;
  lastTextFrame = frame;
  return frame;
}
