/**
 * Codecs (JSON text frames, MessagePack binary frames), their negotiation through
 * `Sec-WebSocket-Protocol`, and decoding of client frames into validated messages with
 * a structured error for every way a frame can be wrong. Decoding never throws.
 */
import { decode as msgpackDecode, encode as msgpackEncode } from "@msgpack/msgpack";
import { ERROR_TEMPORARY, ErrorCode } from "./codes.ts";
import { MAX_FRAME_DEPTH } from "./limits.ts";
import { CLIENT_TYPES, ClientMessage, PROTOCOL_VERSION } from "./messages.ts";
import { jsonNestsDeeper, msgpackNestsDeeper } from "./nesting.ts";

/** The codecs the server speaks. */
export type CodecName = "json" | "msgpack";

/** Subprotocol names, offered by clients in `Sec-WebSocket-Protocol`. */
export const SUBPROTOCOLS: Readonly<Record<CodecName, string>> = {
  json: `realtime.v${PROTOCOL_VERSION}.json`,
  msgpack: `realtime.v${PROTOCOL_VERSION}.msgpack`,
};

/**
 * Suffix of the batching variant of a subprotocol (`realtime.v1.json.batch`): the server may
 * put several messages in one frame — JSON messages separated by a line feed, MessagePack
 * values one after another (docs/PROTOCOL.md, "Batched frames").
 */
export const BATCH_SUFFIX = ".batch";

/** Encodes server messages and decodes client frames of one wire format. */
export interface Codec {
  readonly name: CodecName;
  /** Encodes one message for the wire. */
  encode(message: object): string | Uint8Array;
  /** Decodes one frame into a raw value; throws on malformed input. */
  decodeRaw(frame: string | Uint8Array): unknown;
}

/** JSON in text frames (the default). */
export const jsonCodec: Codec = {
  name: "json",
  encode: (message) => JSON.stringify(message),
  decodeRaw(frame) {
    if (typeof frame !== "string") throw new FrameKindError("binary", "json");
    return JSON.parse(frame);
  },
};

/** MessagePack in binary frames. */
export const msgpackCodec: Codec = {
  name: "msgpack",
  encode: (message) => msgpackEncode(message, { ignoreUndefined: true }),
  decodeRaw(frame) {
    if (typeof frame === "string") throw new FrameKindError("text", "msgpack");
    // No string, binary, array or map can be longer than the frame holding it: a header
    // declaring more (a "bomb" of 2^32 elements) fails at once, before any allocation.
    const n = frame.byteLength;
    return msgpackDecode(frame, {
      maxStrLength: n,
      maxBinLength: n,
      maxArrayLength: n,
      maxMapLength: n,
      maxExtLength: n,
    });
  },
};

/** Codec by name. */
export const CODECS: Readonly<Record<CodecName, Codec>> = {
  json: jsonCodec,
  msgpack: msgpackCodec,
};

class FrameKindError extends Error {
  constructor(got: "text" | "binary", codec: CodecName) {
    super(
      `${got} frames are not accepted on a ${codec} connection, send ${
        codec === "json" ? "JSON text" : "MessagePack binary"
      } frames`,
    );
  }
}

/** The outcome of negotiating a codec from the offered subprotocols. */
export type Negotiation =
  | {
    ok: true;
    codec: Codec; /** The subprotocol to echo, if the client offered one. */
    protocol?: string;
    /** Whether the client offered, and got, the batching variant. */
    batch: boolean;
  }
  | { ok: false; message: string };

/**
 * Picks the codec from the client's `Sec-WebSocket-Protocol` offers, in the client's
 * order (a codec's batching variant, `….batch`, counts as that codec). Entries starting
 * with `bearer.` carry credentials and are skipped. No offer means JSON; offers of which
 * none is ours are refused.
 */
export function negotiateCodec(header: string | null): Negotiation {
  const offers = (header ?? "").split(",").map((s) => s.trim()).filter((s) =>
    s !== "" && !s.startsWith("bearer.")
  );
  if (offers.length === 0) return { ok: true, codec: jsonCodec, batch: false };
  for (const offer of offers) {
    const batch = offer.endsWith(BATCH_SUFFIX);
    const base = batch ? offer.slice(0, -BATCH_SUFFIX.length) : offer;
    for (const codec of Object.values(CODECS)) {
      if (SUBPROTOCOLS[codec.name] === base) return { ok: true, codec, protocol: offer, batch };
    }
  }
  const supported = Object.values(SUBPROTOCOLS).flatMap((p) => [p, p + BATCH_SUFFIX]);
  return {
    ok: false,
    message: `Cannot negotiate a subprotocol: offered ${
      offers.join(", ").slice(0, 300)
    }; supported ${supported.join(", ")}`,
  };
}

/** A structured protocol error, ready to be sent in an `error` frame. */
export interface ProtocolError {
  code: ErrorCode;
  message: string;
  temporary: boolean;
  /** The `id` of the offending message, when it had a readable one. */
  id?: string;
}

/** Builds a {@linkcode ProtocolError} with the code's `temporary` flag. */
export function protocolError(code: ErrorCode, message: string, id?: string): ProtocolError {
  const error: ProtocolError = { code, message, temporary: ERROR_TEMPORARY[code] };
  if (id !== undefined) error.id = id;
  return error;
}

/** The result of decoding one frame. */
export type DecodeResult =
  | { ok: true; message: ClientMessage }
  | { ok: false; error: ProtocolError };

function fail(code: ErrorCode, message: string, id?: string): DecodeResult {
  return { ok: false, error: protocolError(code, message, id) };
}

/** Decodes and validates one frame from a client. */
export function decodeClientFrame(
  frame: string | ArrayBuffer | Uint8Array,
  codec: Codec = jsonCodec,
): DecodeResult {
  const input = frame instanceof ArrayBuffer ? new Uint8Array(frame) : frame;
  const tooDeep = typeof input === "string"
    ? codec.name === "json" && jsonNestsDeeper(input, MAX_FRAME_DEPTH)
    : codec.name === "msgpack" && msgpackNestsDeeper(input, MAX_FRAME_DEPTH);
  if (tooDeep) {
    return fail(
      ErrorCode.BadMessage,
      `Cannot decode frame: it nests deeper than ${MAX_FRAME_DEPTH} levels of arrays and objects`,
    );
  }
  let raw: unknown;
  try {
    raw = codec.decodeRaw(input);
  } catch (err) {
    const detail = err instanceof FrameKindError
      ? err.message
      : `invalid ${codec.name} (${String((err as Error)?.message).slice(0, 200)})`;
    return fail(ErrorCode.BadFrame, `Cannot decode frame: ${detail}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return fail(ErrorCode.BadMessage, "Cannot decode frame: a message must be an object");
  }
  const record = raw as Record<string, unknown>;
  const id = typeof record.id === "string" && record.id.length <= 64 ? record.id : undefined;
  if (typeof record.type !== "string") {
    return fail(ErrorCode.BadMessage, 'Cannot decode frame: missing string field "type"', id);
  }
  if (!CLIENT_TYPES.includes(record.type)) {
    return fail(
      ErrorCode.UnknownType,
      `Cannot handle message: unknown type "${record.type.slice(0, 32)}" (expected one of ${
        CLIENT_TYPES.join(", ")
      })`,
      id,
    );
  }
  const parsed = ClientMessage.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length > 0
      ? `field "${issue.path.join(".").slice(0, 64)}"`
      : "message";
    // Bounded: zod quotes unknown keys, which a client may make as long as its frame.
    return fail(
      ErrorCode.BadMessage,
      `Cannot decode ${record.type}: ${where} ${issue.message.slice(0, 200)}`,
      id,
    );
  }
  return { ok: true, message: parsed.data };
}

/** Encodes a server message as a JSON text frame. */
export function encodeServerMessage(message: object): string {
  return JSON.stringify(message);
}
