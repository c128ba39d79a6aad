/**
 * The frames of one publication on a latest-value channel: the full message, and — for
 * connections that negotiated delta and hold the previous publication — a merge patch
 * against that previous value. Each is encoded at most once per codec, and the patch is
 * computed at most once, on first use: every connection gets one of two shared frames.
 */
import type { Codec, CodecName } from "../protocol/codec.ts";
import { diffValue } from "../protocol/delta.ts";
import type { ServerMessage } from "../protocol/messages.ts";
import { type Encoded, FrameCache } from "./frames.ts";

type Published = Extract<ServerMessage, { type: "message" }>;

/** What a hub remembers of the last publication on a latest-value channel. */
export interface LastPublication {
  /** Hub-wide sequence number of the publication (never 0). */
  seq: number;
  data: unknown;
  epoch?: string;
  offset?: number;
}

/** A publication's frames, full and delta, built lazily. */
export class PublicationFrames {
  readonly full: FrameCache;
  /** The publication a connection must hold to be sent the delta; null when none. */
  readonly baseSeq: number | null;
  #message: Published;
  #base: unknown;
  #patch: FrameCache | null | undefined;
  #chosen: Partial<Record<CodecName, Encoded | null>> = {};

  constructor(
    message: Published,
    readonly seq: number,
    previous: LastPublication | undefined,
  ) {
    this.#message = message;
    this.full = new FrameCache(message);
    const continues = previous !== undefined && previous.epoch === message.epoch &&
      (previous.offset === undefined || message.offset === undefined ||
        message.offset > previous.offset);
    this.baseSeq = continues ? previous.seq : null;
    this.#base = continues ? previous.data : undefined;
  }

  /** The delta frame for `codec`, or null: no patch exists, or it is not smaller. */
  deltaFor(codec: Codec): Encoded | null {
    const known = this.#chosen[codec.name];
    if (known !== undefined) return known;
    const patch = this.#patchFrames();
    let chosen: Encoded | null = null;
    if (patch) {
      const enc = patch.for(codec);
      if (enc.size < this.full.for(codec).size) chosen = enc;
    }
    this.#chosen[codec.name] = chosen;
    return chosen;
  }

  #patchFrames(): FrameCache | null {
    if (this.#patch !== undefined) return this.#patch;
    if (this.baseSeq === null) return this.#patch = null;
    const patch = diffValue(this.#base, this.#message.data);
    this.#base = undefined; // not needed any more
    return this.#patch = patch === undefined
      ? null
      : new FrameCache({ ...this.#message, data: patch, delta: true });
  }
}
