/**
 * The client's side of the codecs: subprotocol names, frame encoding and decoding.
 * JSON costs one `JSON.parse` per frame; MessagePack is loaded on first use only, so
 * pages that speak JSON do not download it.
 */
import type { ServerMessage } from "../protocol/messages.ts";
import type { Position } from "../protocol/position.ts";
import type { CodecName, WebSocketLike } from "./types.ts";

/** The messages the client sends (docs/PROTOCOL.md, "Client → server"), without `v`. */
export type OutgoingMessage =
  | {
    type: "subscribe";
    id?: string;
    channel: string;
    since?: Position;
    delta?: boolean;
  }
  | { type: "unsubscribe"; id?: string; channel: string }
  | { type: "publish"; id: string; channel: string; data: unknown }
  | { type: "history"; id: string; channel: string; limit?: number; before?: number }
  | { type: "presence"; id: string; channel: string }
  | { type: "ping"; id?: string }
  | { type: "pong"; id?: string }
  | { type: "refresh"; id: string; token: string };

type Msgpack = typeof import("@msgpack/msgpack");

let msgpack: Msgpack | null = null;

/** The subprotocol offering `codec`, e.g. `realtime.v1.json`. */
export function subprotocol(codec: CodecName): string {
  return `realtime.v1.${codec}`;
}

/**
 * The subprotocols to offer for `codec`, preferred first: with `batch`, the batching variant
 * (`realtime.v1.json.batch`) and then the plain one, which a server without batching picks.
 */
export function subprotocolOffers(codec: CodecName, batch: boolean): string[] {
  const plain = subprotocol(codec);
  return batch ? [`${plain}.batch`, plain] : [plain];
}

/** Whether frames of `codec` can be encoded and decoded without loading anything. */
export function codecReady(codec: CodecName): boolean {
  return codec === "json" || msgpack !== null;
}

/** Loads the MessagePack implementation (once). */
export async function loadMsgpack(): Promise<void> {
  msgpack ??= await import("@msgpack/msgpack");
}

/**
 * The codec a socket speaks: the one the server echoed in `protocol`; JSON when it
 * echoed none (no offer was made); `requested` when the socket cannot tell.
 */
export function negotiatedCodec(socket: WebSocketLike, requested: CodecName): CodecName {
  const chosen = socket.protocol;
  if (chosen === undefined) return codecReady(requested) ? requested : "json";
  const msgpackChosen = chosen === subprotocol("msgpack") ||
    chosen === `${subprotocol("msgpack")}.batch`;
  return msgpackChosen && msgpack !== null ? "msgpack" : "json";
}

/** Encodes one client message; throws when `data` cannot be encoded. */
export function encodeFrame(codec: CodecName, message: OutgoingMessage): string | Uint8Array {
  const envelope = { v: 1, ...message };
  if (codec === "msgpack" && msgpack !== null) {
    return msgpack.encode(envelope, { ignoreUndefined: true });
  }
  const text = JSON.stringify(envelope);
  if (text === undefined) throw new TypeError("not JSON-encodable");
  return text;
}

/**
 * Decodes one server frame of either kind (text: JSON, binary: MessagePack) holding one
 * message. Returns null for anything that is not an object with a string `type`; never throws.
 */
export function decodeFrame(data: unknown): ServerMessage | null {
  let value: unknown;
  try {
    if (typeof data === "string") value = JSON.parse(data);
    else if (msgpack !== null && (data instanceof ArrayBuffer || ArrayBuffer.isView(data))) {
      value = msgpack.decode(data);
    } else return null;
  } catch {
    return null;
  }
  return asMessage(value);
}

/**
 * Decodes one server frame that may hold several messages (docs/PROTOCOL.md, "Batched
 * frames"): JSON messages separated by line feeds (JSON itself never contains a raw line
 * feed), MessagePack values one after another. Each message that is not an object with a
 * string `type` is skipped, the others kept in order; a MessagePack frame that stops
 * decoding keeps the messages before the fault. Never throws.
 */
export function decodeFrames(data: unknown): ServerMessage[] {
  const out: ServerMessage[] = [];
  if (typeof data === "string") {
    if (!data.includes("\n")) {
      const one = decodeFrame(data);
      if (one !== null) out.push(one);
      return out;
    }
    for (const part of data.split("\n")) {
      const one = decodeFrame(part);
      if (one !== null) out.push(one);
    }
    return out;
  }
  if (msgpack === null || !(data instanceof ArrayBuffer || ArrayBuffer.isView(data))) return out;
  try {
    for (const value of msgpack.decodeMulti(data as ArrayBuffer | Uint8Array<ArrayBuffer>)) {
      const one = asMessage(value);
      if (one !== null) out.push(one);
    }
  } catch {
    // A fault ends the frame: what decoded before it stands.
  }
  return out;
}

function asMessage(value: unknown): ServerMessage | null {
  if (typeof value !== "object" || value === null) return null;
  return typeof (value as { type?: unknown }).type === "string" ? value as ServerMessage : null;
}

const encoder = new TextEncoder();

/** Whether a frame is larger than `maxBytes` on the wire. Cheap for short strings. */
export function frameTooLarge(frame: string | Uint8Array, maxBytes: number): boolean {
  if (typeof frame !== "string") return frame.byteLength > maxBytes;
  // UTF-8 takes at most 3 bytes per UTF-16 unit: count exactly only near the bound.
  return frame.length * 3 > maxBytes && encoder.encode(frame).byteLength > maxBytes;
}

/**
 * The default socket: `new WebSocket(url, protocols)`, with the token (if any) as a
 * `bearer.<token>` subprotocol — the way browsers can carry one (docs/PROTOCOL.md).
 */
export function defaultCreateSocket(
  url: string,
  token?: string,
  protocols: string[] = [],
): WebSocketLike {
  return new WebSocket(url, token ? [...protocols, `bearer.${token}`] : protocols);
}
