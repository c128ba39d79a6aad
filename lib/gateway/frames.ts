/** Encoded frames: encode once per codec, know the byte size once. */
import type { Codec, CodecName } from "../protocol/codec.ts";

/** An encoded frame and its size in bytes, computed once. */
export interface Encoded {
  frame: string | Uint8Array;
  size: number;
}

/** Wraps an encoded frame with its size. */
export function encoded(frame: string | Uint8Array): Encoded {
  return { frame, size: byteLength(frame) };
}

/** One message, encoded at most once per codec, on first use. */
export class FrameCache {
  #frames: Partial<Record<CodecName, Encoded>> = {};
  constructor(readonly message: object) {}
  for(codec: Codec): Encoded {
    return this.#frames[codec.name] ??= encoded(codec.encode(this.message));
  }
}

/** Exact UTF-8 byte length of a text frame (without allocating), or a binary frame's size. */
export function byteLength(frame: string | Uint8Array | ArrayBuffer): number {
  if (typeof frame !== "string") return frame.byteLength;
  let bytes = frame.length;
  for (let i = 0; i < frame.length; i++) {
    const c = frame.charCodeAt(i);
    if (c > 0x7f) bytes += c > 0x7ff ? (c >= 0xd800 && c <= 0xdbff ? 1 : 2) : 1;
  }
  return bytes;
}
