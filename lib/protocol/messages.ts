/**
 * Protocol v1 messages, shared by the server and the client SDK.
 *
 * Every frame is one object: an envelope with a protocol version `v`, a `type`, an
 * optional `id` (echoed in the reply), an optional `channel` and `data`.
 * docs/PROTOCOL.md is the contract; this module is its executable form. Only the zod
 * schemas of client messages live here; the client SDK imports the types alone.
 */
import { z } from "zod";
import type { ErrorCode } from "./codes.ts";
import { MAX_HISTORY_LIMIT } from "./limits.ts";
import type { Position } from "./position.ts";

/** The protocol version this module speaks. */
export const PROTOCOL_VERSION = 1;

/** Channel names: `namespace:rest`, lower-case namespace, printable ASCII, bounded. */
export const CHANNEL_PATTERN = /^[a-z][a-z0-9_-]{0,31}(:[\x21-\x7e]{1,128})?$/;

const channel = z.string().regex(CHANNEL_PATTERN, "must look like namespace:name");
const id = z.string().min(1).max(64);
const version = z.literal(PROTOCOL_VERSION).optional();

/** A channel {@linkcode Position}: the epoch and the offset of the last message seen. */
export const PositionSchema = z.strictObject({
  epoch: z.string().max(64),
  offset: z.number().int().min(0),
});

/**
 * Client → server: start receiving a channel's messages. With `since` (the last
 * position the client saw), the server replays everything after it, or nothing. With
 * `delta: true` on a latest-value channel, messages after the first may come as patches
 * against the previous one (`message.delta`, see `delta.ts`); ignored on ordered channels.
 */
export const SubscribeMessage = z.strictObject({
  v: version,
  type: z.literal("subscribe"),
  id: id.optional(),
  channel,
  since: PositionSchema.optional(),
  delta: z.boolean().optional(),
});

/** Client → server: stop receiving a channel's messages. */
export const UnsubscribeMessage = z.strictObject({
  v: version,
  type: z.literal("unsubscribe"),
  id: id.optional(),
  channel,
});

/** Client → server: publish `data` to a channel; answered with `ack` (or `error`). */
export const PublishMessage = z.strictObject({
  v: version,
  type: z.literal("publish"),
  id,
  channel,
  data: z.unknown().refine((d) => d !== undefined, "is required"),
});

/** Client → server: who is present on a channel; answered with `presence`. */
export const PresenceMessage = z.strictObject({
  v: version,
  type: z.literal("presence"),
  id,
  channel,
});

/**
 * Client → server: the newest `limit` messages the channel still keeps (with `before`:
 * those with an offset below it); answered with `history`. Needs the right to subscribe,
 * not a subscription.
 */
export const HistoryMessage = z.strictObject({
  v: version,
  type: z.literal("history"),
  id,
  channel,
  limit: z.number().int().min(1).max(MAX_HISTORY_LIMIT).optional(),
  before: z.number().int().min(0).optional(),
});

/** Client → server: application ping; answered with `pong`. */
export const PingMessage = z.strictObject({
  v: version,
  type: z.literal("ping"),
  id: id.optional(),
});

/** Client → server: the answer to a server `ping` (the heartbeat). */
export const PongMessage = z.strictObject({
  v: version,
  type: z.literal("pong"),
  id: id.optional(),
});

/** Client → server: a new access token for this connection; answered with `refreshed`. */
export const RefreshMessage = z.strictObject({
  v: version,
  type: z.literal("refresh"),
  id,
  token: z.string().min(1).max(8192),
});

/** Every message a client may send. */
export const ClientMessage = z.discriminatedUnion("type", [
  SubscribeMessage,
  UnsubscribeMessage,
  PublishMessage,
  PresenceMessage,
  PingMessage,
  PongMessage,
  RefreshMessage,
  HistoryMessage,
]);

/** A validated client → server message. */
export type ClientMessage = z.infer<typeof ClientMessage>;

/** The message types a client may send. */
export const CLIENT_TYPES: readonly string[] = ClientMessage.options.map((o) => o.shape.type.value);

/** A member of a channel's presence set. */
export interface PresenceMember {
  userId: string;
  name: string;
  /** How many of this user's connections are subscribed. */
  connections: number;
}

/** The limits a connection runs under, announced in `connected`. */
export interface AnnouncedLimits {
  maxFrameBytes: number;
  maxPublishBytes: number;
  maxSubscriptions: number;
  messagesPerSecond: number;
  messageBurst: number;
  /** How deep `publish.data` may nest (`MAX_PAYLOAD_DEPTH`, 32); sent by this server. */
  maxPayloadDepth?: number;
}

/** `connected` payload. */
export interface ConnectedData {
  session: string;
  server: string;
  user: { id: string; name: string; anonymous: boolean; expiresAt: number | null };
  codec: "json" | "msgpack";
  /** Present (true) when frames may carry several messages (the `….batch` subprotocol). */
  batch?: true;
  heartbeat: { intervalMs: number; timeoutMs: number };
  limits: AnnouncedLimits;
}

/** One message of a `history` reply. */
export interface HistoryEntry {
  offset: number;
  epoch: string;
  /** ms since the epoch, when the message was committed. */
  ts: number;
  data: unknown;
  /** The publishing user's id (client publishes only). */
  from?: string;
  /** The publishing user's account name, attached by the server (client publishes only). */
  fromName?: string;
}

/** `history` payload: the channel's current position and the page, oldest first. */
export interface HistoryData extends Position {
  messages: HistoryEntry[];
}

/** The error payload. */
export interface ErrorData {
  code: ErrorCode;
  message: string;
  temporary: boolean;
}

/** Server → client messages. */
export type ServerMessage =
  | { v: 1; type: "connected"; data: ConnectedData }
  | {
    v: 1;
    type: "subscribed";
    id?: string;
    channel: string;
    data: {
      /** The channel's position when the subscription started (servers with a bus). */
      epoch?: string;
      offset?: number;
      /** Only when `since` was sent: whether every missed message follows. */
      recovered?: boolean;
      snapshot?: unknown;
      presence?: boolean;
      /** Delta messages are on for this subscription (asked with `subscribe.delta`). */
      delta?: boolean;
    };
  }
  | { v: 1; type: "unsubscribed"; id?: string; channel: string }
  | {
    v: 1;
    type: "message";
    channel: string;
    ts: number;
    data: unknown;
    /** The publishing user's id, attached by the server (client publishes only). */
    from?: string;
    /**
     * The publishing user's account name (unique), attached by the server: the only
     * sender identity to trust — never a name inside `data`.
     */
    fromName?: string;
    offset?: number;
    epoch?: string;
    /**
     * `data` is a merge patch against the previous value this connection received on the
     * channel (subscriptions with delta only; see `delta.ts`).
     */
    delta?: true;
  }
  | {
    v: 1;
    type: "ack";
    id: string;
    channel: string;
    data: Partial<Position> & { ts: number; deliveredTo?: number };
  }
  | {
    v: 1;
    type: "presence";
    id: string;
    channel: string;
    data: { count: number; members: PresenceMember[]; truncated: boolean };
  }
  | { v: 1; type: "join" | "leave"; channel: string; data: { userId: string; name: string } }
  | { v: 1; type: "history"; id: string; channel: string; data: HistoryData }
  | { v: 1; type: "ping"; id?: string }
  | { v: 1; type: "pong"; id?: string }
  | { v: 1; type: "refreshed"; id: string; data: { expiresAt: number | null } }
  | { v: 1; type: "expiring"; data: { expiresAt: number } }
  | { v: 1; type: "error"; id?: string; data: ErrorData }
  | { v: 1; type: "disconnect"; data: { code: number; reason: string; reconnect: boolean } };

/** The message types a server sends. */
export type ServerMessageType = ServerMessage["type"];
