/** A {@linkcode Transport} for tests: records frames and closes instead of sending. */
import { decodeMulti } from "@msgpack/msgpack";
import type { Transport } from "./transport.ts";

/** A recording transport whose `bufferedAmount` the test sets. */
export interface FakeTransport extends Transport {
  /** Every message sent, decoded (JSON or MessagePack; a batched frame gives several). */
  readonly frames: Record<string, unknown>[];
  /** Every frame sent, as sent. */
  readonly raw: (string | Uint8Array)[];
  bufferedAmount: number;
  closed?: { code: number; reason: string };
  /** Frames of one type. */
  ofType(type: string): Record<string, unknown>[];
}

/** Creates a recording transport. */
export function fakeTransport(): FakeTransport {
  const frames: Record<string, unknown>[] = [];
  const raw: (string | Uint8Array)[] = [];
  const t: FakeTransport = {
    frames,
    raw,
    bufferedAmount: 0,
    send(frame) {
      if (t.closed) return;
      raw.push(frame);
      const messages = typeof frame === "string"
        ? frame.split("\n").map((m) => JSON.parse(m))
        : [...decodeMulti(frame)];
      frames.push(...messages as Record<string, unknown>[]);
    },
    close(code, reason) {
      t.closed ??= { code, reason };
    },
    ofType: (type) => frames.filter((f) => f.type === type),
  };
  return t;
}
