/**
 * Decoding of client frames into validated messages, with a structured error for
 * every way a frame can be wrong. Never throws.
 */
import { CLIENT_TYPES, ClientMessage } from "./messages.ts";
import { ERROR_TEMPORARY, ErrorCode } from "./codes.ts";

/** A structured protocol error, ready to be sent in an `error` frame. */
export interface ProtocolError {
  code: ErrorCode;
  message: string;
  temporary: boolean;
  /** The `id` of the offending message, when it had a readable one. */
  id?: string;
}

/** The result of decoding one frame. */
export type DecodeResult =
  | { ok: true; message: ClientMessage }
  | { ok: false; error: ProtocolError };

function fail(code: ErrorCode, message: string, id?: string): DecodeResult {
  const error: ProtocolError = { code, message, temporary: ERROR_TEMPORARY[code] };
  if (id !== undefined) error.id = id;
  return { ok: false, error };
}

/** Decodes and validates one text or binary frame from a client. */
export function decodeClientFrame(frame: string | ArrayBuffer | Uint8Array): DecodeResult {
  if (typeof frame !== "string") {
    return fail(
      ErrorCode.BadFrame,
      "Cannot decode frame: binary frames are not accepted, send JSON text",
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(frame);
  } catch (err) {
    return fail(
      ErrorCode.BadFrame,
      `Cannot decode frame: invalid JSON (${(err as Error).message})`,
    );
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return fail(ErrorCode.BadMessage, "Cannot decode frame: a message must be a JSON object");
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
    const where = issue.path.length > 0 ? `field "${issue.path.join(".")}"` : "message";
    return fail(
      ErrorCode.BadMessage,
      `Cannot decode ${record.type}: ${where} ${issue.message}`,
      id,
    );
  }
  return { ok: true, message: parsed.data };
}

/** Encodes a server message as a JSON text frame. */
export function encodeServerMessage(message: object): string {
  return JSON.stringify(message);
}
