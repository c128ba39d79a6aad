/**
 * The gateway hub: the connections of one isolate, their subscriptions, and message
 * routing. Knows sockets only through {@linkcode Transport}; knows channels only
 * through the injected {@linkcode ChannelResolver}.
 */
import {
  type ClientMessage,
  decodeClientFrame,
  encodeServerMessage,
  ERROR_TEMPORARY,
  ErrorCode,
  type ProtocolError,
  type ServerMessage,
} from "../protocol/mod.ts";
import type { Transport } from "./transport.ts";

/** What the resolver says about a channel a client wants to subscribe to. */
export type ChannelResolution =
  | { ok: true; snapshot?: () => unknown }
  | { ok: false; message: string };

/** Decides which channels exist and what a new subscriber sees first. */
export type ChannelResolver = (channel: string) => ChannelResolution;

/** One accepted connection. */
export interface Connection {
  readonly id: string;
  readonly transport: Transport;
  readonly channels: Set<string>;
  readonly openedAt: number;
}

/** Options for {@linkcode Hub}. */
export interface HubOptions {
  /** Identifies this isolate in `connected` frames and status. */
  serverId: string;
  channels: ChannelResolver;
  /** Clock; default `Date.now`. */
  now?: () => number;
}

/** Counters exposed by {@linkcode Hub.stats}. */
export interface HubStats {
  connections: number;
  channels: number;
  subscriptions: number;
  messagesIn: number;
  messagesOut: number;
  errorsSent: number;
}

/** Connections and channel subscriptions of one isolate. */
export class Hub {
  #options: HubOptions;
  #now: () => number;
  #connections = new Set<Connection>();
  #subscribers = new Map<string, Set<Connection>>();
  #nextId = 0;
  #messagesIn = 0;
  #messagesOut = 0;
  #errorsSent = 0;

  constructor(options: HubOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Registers a new connection and greets it with `connected`. */
  open(transport: Transport): Connection {
    const conn: Connection = {
      id: `${this.#options.serverId}-${++this.#nextId}`,
      transport,
      channels: new Set(),
      openedAt: this.#now(),
    };
    this.#connections.add(conn);
    this.#send(conn, {
      v: 1,
      type: "connected",
      data: { session: conn.id, server: this.#options.serverId },
    });
    return conn;
  }

  /** Handles one frame from `conn`. Bad frames get an `error` frame; the connection stays open. */
  receive(conn: Connection, frame: string | ArrayBuffer | Uint8Array): void {
    if (!this.#connections.has(conn)) return;
    this.#messagesIn++;
    const decoded = decodeClientFrame(frame);
    if (!decoded.ok) return this.#sendError(conn, decoded.error);
    this.#dispatch(conn, decoded.message);
  }

  /** Forgets `conn` and all its subscriptions. Idempotent. */
  close(conn: Connection): void {
    if (!this.#connections.delete(conn)) return;
    for (const channel of conn.channels) this.#unsubscribe(conn, channel);
  }

  /** Closes every connection with `code` (e.g. on shutdown). */
  closeAll(code: number, reason: string): void {
    for (const conn of [...this.#connections]) {
      this.close(conn);
      conn.transport.close(code, reason);
    }
  }

  /**
   * Sends `data` to every subscriber of `channel`; the frame is encoded once.
   * Returns the number of connections it was sent to.
   */
  publish(channel: string, data: unknown): number {
    const subscribers = this.#subscribers.get(channel);
    if (!subscribers || subscribers.size === 0) return 0;
    const frame = encodeServerMessage({ v: 1, type: "message", channel, ts: this.#now(), data });
    for (const conn of subscribers) conn.transport.send(frame);
    this.#messagesOut += subscribers.size;
    return subscribers.size;
  }

  /** Current counters. */
  stats(): HubStats {
    let subscriptions = 0;
    for (const set of this.#subscribers.values()) subscriptions += set.size;
    return {
      connections: this.#connections.size,
      channels: this.#subscribers.size,
      subscriptions,
      messagesIn: this.#messagesIn,
      messagesOut: this.#messagesOut,
      errorsSent: this.#errorsSent,
    };
  }

  #dispatch(conn: Connection, message: ClientMessage): void {
    switch (message.type) {
      case "subscribe":
        return this.#subscribe(conn, message.channel, message.id);
      case "unsubscribe":
        this.#unsubscribe(conn, message.channel);
        return this.#send(conn, {
          v: 1,
          type: "unsubscribed",
          channel: message.channel,
          ...(message.id ? { id: message.id } : {}),
        });
      case "ping":
        return this.#send(conn, { v: 1, type: "pong", ...(message.id ? { id: message.id } : {}) });
    }
  }

  #subscribe(conn: Connection, channel: string, id: string | undefined): void {
    const resolved = this.#options.channels(channel);
    if (!resolved.ok) {
      return this.#sendError(conn, {
        code: ErrorCode.UnknownChannel,
        message: resolved.message,
        temporary: ERROR_TEMPORARY[ErrorCode.UnknownChannel],
        ...(id ? { id } : {}),
      });
    }
    conn.channels.add(channel);
    let set = this.#subscribers.get(channel);
    if (!set) this.#subscribers.set(channel, set = new Set());
    set.add(conn);
    const snapshot = resolved.snapshot?.();
    this.#send(conn, {
      v: 1,
      type: "subscribed",
      channel,
      ...(id ? { id } : {}),
      data: snapshot === undefined ? {} : { snapshot },
    });
  }

  #unsubscribe(conn: Connection, channel: string): void {
    conn.channels.delete(channel);
    const set = this.#subscribers.get(channel);
    if (!set) return;
    set.delete(conn);
    if (set.size === 0) this.#subscribers.delete(channel);
  }

  #sendError(conn: Connection, error: ProtocolError): void {
    this.#errorsSent++;
    const { id, ...data } = error;
    this.#send(conn, { v: 1, type: "error", ...(id ? { id } : {}), data });
  }

  #send(conn: Connection, message: ServerMessage): void {
    this.#messagesOut++;
    conn.transport.send(encodeServerMessage(message));
  }
}
