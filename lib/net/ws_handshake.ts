/** The server side of the WebSocket opening handshake (RFC 6455 §4.2). */
import { headerOf, type RequestHead } from "./http_head.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const encoder = new TextEncoder();

/**
 * Why an upgrade head cannot be a WebSocket handshake, or null when it can (version 13,
 * a 16-byte base64 key, `Connection: upgrade`).
 */
export function handshakeProblem(head: RequestHead): string | null {
  if (head.version !== "HTTP/1.1") return "WebSocket upgrades need HTTP/1.1";
  const connection = headerOf(head, "connection") ?? "";
  if (!connection.toLowerCase().split(",").some((t) => t.trim() === "upgrade")) {
    return "Connection header must include upgrade";
  }
  if (headerOf(head, "sec-websocket-version") !== "13") {
    return "Sec-WebSocket-Version must be 13";
  }
  const key = headerOf(head, "sec-websocket-key") ?? "";
  if (!/^[A-Za-z0-9+/]{22}==$/.test(key)) return "Sec-WebSocket-Key must be 16 bytes in base64";
  return null;
}

/** `Sec-WebSocket-Accept` for `key`. */
export async function acceptKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", encoder.encode(key + GUID));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

/** The 101 response head for `key`, echoing `protocol` when one was chosen. */
export async function switchingProtocols(key: string, protocol?: string): Promise<Uint8Array> {
  const lines = [
    "HTTP/1.1 101 Switching Protocols",
    "upgrade: websocket",
    "connection: Upgrade",
    `sec-websocket-accept: ${await acceptKey(key)}`,
  ];
  if (protocol) lines.push(`sec-websocket-protocol: ${protocol}`);
  return encoder.encode(lines.join("\r\n") + "\r\n\r\n");
}
