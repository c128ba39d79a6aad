/**
 * Protocol v1 messages, shared by the server and the client SDK.
 *
 * Every frame is one JSON object: an envelope with a protocol version `v`, a `type`,
 * an optional `id` (echoed in the reply), an optional `channel` and `data`.
 * docs/PROTOCOL.md is the contract; this module is its executable form.
 */
import { z } from "zod";
import { ErrorCode } from "./codes.ts";

/** The protocol version this module speaks. */
export const PROTOCOL_VERSION = 1;

/** Channel names: `namespace:rest`, lower-case namespace, printable ASCII, bounded. */
export const CHANNEL_PATTERN = /^[a-z][a-z0-9_-]{0,31}(:[\x21-\x7e]{1,128})?$/;

const channel = z.string().regex(CHANNEL_PATTERN, "must look like namespace:name");
const id = z.string().min(1).max(64);
const version = z.literal(PROTOCOL_VERSION).optional();

/** Client → server: start receiving a channel's messages. */
export const SubscribeMessage = z.strictObject({
  v: version,
  type: z.literal("subscribe"),
  id: id.optional(),
  channel,
});

/** Client → server: stop receiving a channel's messages. */
export const UnsubscribeMessage = z.strictObject({
  v: version,
  type: z.literal("unsubscribe"),
  id: id.optional(),
  channel,
});

/** Client → server: application-level ping; answered with `pong`. */
export const PingMessage = z.strictObject({
  v: version,
  type: z.literal("ping"),
  id: id.optional(),
});

/** Every message a client may send. */
export const ClientMessage = z.discriminatedUnion("type", [
  SubscribeMessage,
  UnsubscribeMessage,
  PingMessage,
]);

/** A validated client → server message. */
export type ClientMessage = z.infer<typeof ClientMessage>;

/** The message types a client may send. */
export const CLIENT_TYPES: readonly string[] = ClientMessage.options.map((o) => o.shape.type.value);

/** Server → client messages. */
export type ServerMessage =
  | { v: 1; type: "connected"; data: { session: string; server: string } }
  | { v: 1; type: "subscribed"; id?: string; channel: string; data: { snapshot?: unknown } }
  | { v: 1; type: "unsubscribed"; id?: string; channel: string }
  | { v: 1; type: "message"; channel: string; ts: number; data: unknown }
  | { v: 1; type: "pong"; id?: string }
  | {
    v: 1;
    type: "error";
    id?: string;
    data: { code: ErrorCode; message: string; temporary: boolean };
  };

/** The message types a server sends. */
export type ServerMessageType = ServerMessage["type"];
