/** A {@linkcode Transport} for tests: records frames and closes instead of sending. */
import type { Transport } from "./transport.ts";

/** A recording transport. */
export interface FakeTransport extends Transport {
  /** Every frame sent, decoded from JSON. */
  readonly frames: Record<string, unknown>[];
  /** Every frame sent, as sent. */
  readonly raw: string[];
  closed?: { code: number; reason: string };
}

/** Creates a recording transport. */
export function fakeTransport(): FakeTransport {
  const frames: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const t: FakeTransport = {
    frames,
    raw,
    bufferedAmount: 0,
    send(frame: string) {
      raw.push(frame);
      frames.push(JSON.parse(frame));
    },
    close(code: number, reason: string) {
      t.closed = { code, reason };
    },
  };
  return t;
}
