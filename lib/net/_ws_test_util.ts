/**
 * Test helpers for raw WebSocket traffic: client frames built byte by byte (masked or
 * not, with any header bits and any declared length) and a parser of server frames.
 * Used by lib/net unit tests, tests/attack_conn_test.ts and bench/attack.ts.
 */

/** Options of {@linkcode clientFrame}. */
export interface ClientFrameOptions {
  /** FIN bit. Default true. */
  fin?: boolean;
  /** Mask the payload (clients must). Default true. */
  mask?: boolean;
  /** RSV1-3 bits as a number 0–7. Default 0. */
  rsv?: number;
  /** Declared payload length, when it should differ from the payload's. */
  declared?: number;
}

/** A client frame with `payload` (masked unless told otherwise). */
export function clientFrame(
  opcode: number,
  payload: Uint8Array | string = new Uint8Array(0),
  options: ClientFrameOptions = {},
): Uint8Array {
  const bytes = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const fin = options.fin ?? true;
  const mask = options.mask ?? true;
  const length = options.declared ?? bytes.length;
  const header: number[] = [(fin ? 0x80 : 0) | ((options.rsv ?? 0) << 4) | opcode];
  const m = mask ? 0x80 : 0;
  if (length < 126) {
    header.push(m | length);
  } else if (length < 65_536) {
    header.push(m | 126, length >> 8, length & 0xff);
  } else {
    header.push(m | 127);
    const big = BigInt(length);
    for (let i = 7; i >= 0; i--) header.push(Number((big >> BigInt(i * 8)) & 0xffn));
  }
  const key = mask ? crypto.getRandomValues(new Uint8Array(4)) : new Uint8Array(0);
  const out = new Uint8Array(header.length + key.length + bytes.length);
  out.set(header);
  out.set(key, header.length);
  const at = header.length + key.length;
  for (let i = 0; i < bytes.length; i++) out[at + i] = mask ? bytes[i] ^ key[i & 3] : bytes[i];
  return out;
}

/** A masked close frame from the client. */
export function clientClose(code: number, reason = ""): Uint8Array {
  const r = new TextEncoder().encode(reason);
  const payload = new Uint8Array(2 + r.length);
  payload[0] = code >> 8;
  payload[1] = code & 0xff;
  payload.set(r, 2);
  return clientFrame(0x8, payload);
}

/** One frame sent by the server. */
export interface ServerFrame {
  fin: boolean;
  opcode: number;
  payload: Uint8Array;
}

/** Parses complete server frames from `bytes`; returns them and the unparsed rest. */
export function parseServerFrames(bytes: Uint8Array): { frames: ServerFrame[]; rest: Uint8Array } {
  const frames: ServerFrame[] = [];
  let i = 0;
  while (bytes.length - i >= 2) {
    const fin = (bytes[i] & 0x80) !== 0;
    const opcode = bytes[i] & 0x0f;
    let length = bytes[i + 1] & 0x7f;
    let at = i + 2;
    if (length === 126) {
      if (bytes.length - i < 4) break;
      length = (bytes[i + 2] << 8) | bytes[i + 3];
      at = i + 4;
    } else if (length === 127) {
      if (bytes.length - i < 10) break;
      length = Number(new DataView(bytes.buffer, bytes.byteOffset + i + 2, 8).getBigUint64(0));
      at = i + 10;
    }
    if (bytes.length - at < length) break;
    frames.push({ fin, opcode, payload: bytes.slice(at, at + length) });
    i = at + length;
  }
  return { frames, rest: bytes.slice(i) };
}

/** The code and reason of a close frame's payload (1005 when it has none). */
export function closePayload(payload: Uint8Array): { code: number; reason: string } {
  if (payload.length < 2) return { code: 1005, reason: "" };
  return {
    code: (payload[0] << 8) | payload[1],
    reason: new TextDecoder().decode(payload.subarray(2)),
  };
}

/** A raw TCP connection that completed a WebSocket handshake (or was refused). */
export interface RawUpgrade {
  conn: Deno.TcpConn;
  /** The response head's status code. */
  status: number;
  /** The response head. */
  head: string;
  /** Bytes received after the head (early frames). */
  rest: Uint8Array;
}

/** Opens a TCP connection and sends a WebSocket upgrade request for `path`. */
export async function rawUpgrade(
  hostname: string,
  port: number,
  options: { path?: string; protocol?: string; headers?: Record<string, string> } = {},
): Promise<RawUpgrade> {
  const conn = await Deno.connect({ hostname, port });
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const host = hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
  const lines = [
    `GET ${options.path ?? "/api/ws"} HTTP/1.1`,
    `Host: ${host}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${key}`,
    "Sec-WebSocket-Version: 13",
    ...(options.protocol ? [`Sec-WebSocket-Protocol: ${options.protocol}`] : []),
    ...Object.entries(options.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
  ];
  await conn.write(new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"));
  let bytes = new Uint8Array(0);
  const buf = new Uint8Array(8_192);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) throw new Error("Cannot upgrade: the server closed during the handshake");
    const next = new Uint8Array(bytes.length + n);
    next.set(bytes);
    next.set(buf.subarray(0, n), bytes.length);
    bytes = next;
    const text = new TextDecoder("latin1").decode(bytes);
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      const head = text.slice(0, end);
      return { conn, status: Number(head.split(" ")[1]), head, rest: bytes.slice(end + 4) };
    }
  }
}

/** How a raw connection ended, and the server frames received until then. */
export interface RawEnd {
  /** `eof` (the server closed), `reset`, or `timeout` (still open after `ms`). */
  end: "eof" | "reset" | "timeout";
  afterMs: number;
  frames: ServerFrame[];
}

/**
 * Reads `conn` until the server ends it or `ms` pass (then the connection is closed by
 * us and `end` is `timeout`).
 */
export async function readUntilEnd(
  conn: Deno.Conn,
  ms: number,
  initial: Uint8Array = new Uint8Array(0),
): Promise<RawEnd> {
  const started = performance.now();
  let bytes = initial;
  const buf = new Uint8Array(65_536);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }, ms);
  let end: RawEnd["end"] = "eof";
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      const next = new Uint8Array(bytes.length + n);
      next.set(bytes);
      next.set(buf.subarray(0, n), bytes.length);
      bytes = next;
    }
  } catch {
    end = "reset";
  }
  clearTimeout(timer);
  if (timedOut) end = "timeout";
  return { end, afterMs: performance.now() - started, frames: parseServerFrames(bytes).frames };
}
