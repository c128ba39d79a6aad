/**
 * Batched frames (docs/PROTOCOL.md, "Batched frames"): for a connection that negotiated the
 * `….batch` subprotocol, everything the hub writes to it during one task — a round of ten
 * prices, a bus batch of messages, a reply and a ping — goes out as one WebSocket frame at the
 * end of the task: JSON messages joined by a line feed, MessagePack values one after another.
 * (`wrap(t, false)` holds them the same way but sends them one by one.)
 *
 * Why: under `deno serve` each frame is one call into the runtime (`op_ws_send_text`), the
 * largest single cost of a delivery (docs/PERFORMANCE.md); a board connection subscribed to
 * ten symbols of a round gets one frame instead of ten. Nothing waits longer than the task that
 * produced it (a microtask), so latency does not grow; a batch is cut at
 * {@linkcode MAX_BATCH_BYTES}.
 *
 * The wrapped transport counts what it holds in `bufferedAmount`, and `close` sends what it
 * holds first, so a reply written just before a close (4001, 4002, 4502) still arrives. Its
 * `backlog` is what earlier tasks wrote that the socket has not yet written to the network:
 * the signal flow control uses to hold latest values (lib/gateway/outbound.ts).
 */
import type { Transport } from "./transport.ts";

/** A batch is sent once it holds this many bytes (a single larger message goes alone). */
export const MAX_BATCH_BYTES = 64 * 1024;

/** Sends the corked frames of many transports at the end of the current task. */
export class Batcher {
  /** Told of every frame that carried several messages, with how many (metrics). */
  #onBatch: ((messages: number) => void) | undefined;
  /** Transports that held frames this task (one may appear twice after a cut: harmless). */
  #corked: BatchingTransport[] = [];
  #scheduled = false;
  #flushAll = () => this.flush();

  constructor(options: { onBatch?(messages: number): void } = {}) {
    this.#onBatch = options.onBatch;
  }

  /**
   * Wraps `inner`: frames sent through the result are held until the end of the task, then
   * sent as one frame (`join`) or one by one.
   */
  wrap(inner: Transport, join = true): Transport {
    return new BatchingTransport(inner, this, join);
  }

  /** Sends every held batch now (the microtask does it by itself). */
  flush(): void {
    this.#scheduled = false;
    const corked = this.#corked;
    this.#corked = [];
    for (let i = 0; i < corked.length; i++) corked[i].uncork();
  }

  /** How many transports hold frames now. */
  get pending(): number {
    return this.#corked.filter((t) => t.holding).length;
  }

  /** @internal A transport sent `messages` in one frame. */
  batched(messages: number): void {
    this.#onBatch?.(messages);
  }

  /** @internal A transport holds frames: send them at the end of the task. */
  corked(t: BatchingTransport): void {
    this.#corked.push(t);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(this.#flushAll);
  }
}

/**
 * A transport that holds frames until the end of the task and sends them as one. The common
 * case — one frame in a task — allocates nothing.
 */
class BatchingTransport implements Transport {
  #first: string | Uint8Array | null = null;
  #more: (string | Uint8Array)[] | null = null;
  #bytes = 0;

  constructor(readonly inner: Transport, readonly batcher: Batcher, readonly joins: boolean) {}

  /** Whether frames are held. */
  get holding(): boolean {
    return this.#first !== null;
  }

  send(frame: string | Uint8Array): void {
    // Text counted in UTF-16 units: JSON frames are mostly ASCII, and this only decides where
    // a batch is cut and what `bufferedAmount` adds.
    const size = typeof frame === "string" ? frame.length : frame.byteLength;
    if (this.#first === null) {
      this.#first = frame;
      this.#bytes = size;
      this.batcher.corked(this);
      return;
    }
    // + 1: the line feed before it (binary needs none; one byte of slack is harmless).
    if (this.#bytes + 1 + size > MAX_BATCH_BYTES) {
      this.uncork();
      this.send(frame);
      return;
    }
    (this.#more ??= []).push(frame);
    this.#bytes += 1 + size;
  }

  close(code: number, reason: string): void {
    this.uncork();
    this.inner.close(code, reason);
  }

  get bufferedAmount(): number {
    return this.inner.bufferedAmount + this.#bytes;
  }

  get backlog(): number {
    return this.inner.bufferedAmount;
  }

  /** Sends what is held: as one frame, or one by one. */
  uncork(): void {
    const first = this.#first;
    if (first === null) return;
    const more = this.#more;
    this.#first = null;
    this.#more = null;
    this.#bytes = 0;
    if (more === null) this.inner.send(first);
    else if (this.joins) {
      this.inner.send(join([first, ...more]));
      this.batcher.batched(1 + more.length);
    } else {
      this.inner.send(first);
      for (const frame of more) this.inner.send(frame);
    }
  }
}

/** One frame of several: text joined by line feeds, binary concatenated. */
export function join(frames: readonly (string | Uint8Array)[]): string | Uint8Array {
  if (typeof frames[0] === "string") return frames.join("\n");
  let size = 0;
  for (const f of frames) size += (f as Uint8Array).byteLength;
  const out = new Uint8Array(size);
  let at = 0;
  for (const f of frames) {
    out.set(f as Uint8Array, at);
    at += (f as Uint8Array).byteLength;
  }
  return out;
}
