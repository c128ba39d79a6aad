/**
 * The first HTTP/1.1 request head of a connection, read by the connection guard: enough
 * to bound its size, tell a WebSocket upgrade from anything else, and build the
 * `Request` of an upgrade. Everything else is passed on byte for byte to the runtime's
 * HTTP server, which parses it properly.
 */

/** A parsed request head. */
export interface RequestHead {
  method: string;
  target: string;
  version: string;
  headers: [string, string][];
}

/** What {@linkcode readHead} found. */
export type HeadResult =
  | {
    ok: true;
    head: RequestHead;
    /** The head's bytes, up to and including the blank line. */
    raw: Uint8Array;
    /** Bytes read after the head (a body, or a pipelined client's next bytes). */
    rest: Uint8Array;
  }
  | { ok: false; error: "closed" | "too_large" | "malformed" };

const CR = 13;
const LF = 10;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A host name or address with an optional port: nothing that could change the URL's meaning. */
const HOST = /^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/** Index just past the first CRLFCRLF in `buf[0, end)`, searching from `from`; -1 if none. */
function headEnd(buf: Uint8Array, from: number, end: number): number {
  for (let i = Math.max(0, from - 3); i + 3 < end; i++) {
    if (buf[i] === CR && buf[i + 1] === LF && buf[i + 2] === CR && buf[i + 3] === LF) {
      return i + 4;
    }
  }
  return -1;
}

/**
 * Reads from `conn` until a complete head (at most `maxBytes`). The caller bounds the
 * time by closing `conn` (the read then fails and this returns `closed`).
 */
export async function readHead(
  conn: { read(buffer: Uint8Array): Promise<number | null> },
  maxBytes: number,
): Promise<HeadResult> {
  let buf = new Uint8Array(Math.min(2_048, maxBytes + 1));
  let end = 0;
  for (;;) {
    if (end === buf.length) {
      if (buf.length > maxBytes) return { ok: false, error: "too_large" };
      const bigger = new Uint8Array(Math.min(buf.length * 2, maxBytes + 1));
      bigger.set(buf);
      buf = bigger;
    }
    let n: number | null;
    try {
      n = await conn.read(buf.subarray(end));
    } catch {
      n = null;
    }
    if (n === null) return { ok: false, error: "closed" };
    const from = end;
    end += n;
    const at = headEnd(buf, from, end);
    if (at < 0) {
      if (end > maxBytes) return { ok: false, error: "too_large" };
      continue;
    }
    if (at > maxBytes) return { ok: false, error: "too_large" };
    const head = parseHead(buf.subarray(0, at));
    if (!head) return { ok: false, error: "malformed" };
    return { ok: true, head, raw: buf.slice(0, at), rest: buf.slice(at, end) };
  }
}

/** Parses a head (ending with the blank line); null when malformed. */
export function parseHead(bytes: Uint8Array): RequestHead | null {
  // Header bytes are Latin-1 (RFC 9110 §5.5); decoding cannot fail.
  let text = "";
  for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
  const lines = text.slice(0, -4).split("\r\n");
  const parts = lines[0].split(" ");
  if (parts.length !== 3) return null;
  const [method, target, version] = parts;
  if (!TOKEN.test(method) || target === "" || !/^HTTP\/1\.[01]$/.test(version)) return null;
  const headers: [string, string][] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(":");
    // No obsolete line folding, no whitespace before the colon (RFC 9112 §5).
    if (colon <= 0) return null;
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return null;
    const value = line.slice(colon + 1).trim();
    if (/[\0\r\n]/.test(value)) return null;
    headers.push([name.toLowerCase(), value]);
  }
  return { method, target, version, headers };
}

/** The value of header `name` (lower case), the first occurrence, or undefined. */
export function headerOf(head: RequestHead, name: string): string | undefined {
  return head.headers.find(([n]) => n === name)?.[1];
}

/** Whether the head asks for a WebSocket upgrade (GET with `Upgrade: websocket`). */
export function isUpgradeHead(head: RequestHead): boolean {
  if (head.method !== "GET") return false;
  const upgrade = headerOf(head, "upgrade");
  return upgrade !== undefined &&
    upgrade.toLowerCase().split(",").some((t) => t.trim() === "websocket");
}

/** The `Request` for an upgrade head, or null when its target or headers are unusable. */
export function requestOf(head: RequestHead): Request | null {
  const host = headerOf(head, "host");
  if (!host || !HOST.test(host) || !head.target.startsWith("/")) return null;
  try {
    const url = new URL(head.target, `http://${host}`);
    return new Request(url, { method: head.method, headers: head.headers });
  } catch {
    return null;
  }
}
