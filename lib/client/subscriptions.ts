/**
 * Channel subscriptions of one client: handlers per channel, the last position seen
 * per channel (sent as `since` when re-subscribing), delivery of each offset once, and
 * delta messages rebuilt into full values (`delta.ts`).
 */
import type { ErrorData, ServerMessage } from "../protocol/messages.ts";
import type { Position } from "../protocol/position.ts";
import { DeltaBases } from "./delta.ts";
import type { OutgoingMessage } from "./wire.ts";
import type { MessageMeta, SubscribeOptions, SubscriptionHandlers } from "./types.ts";

/**
 * A subscription's state: `subscribing` until the server confirms (again after every
 * reconnect), `subscribed`, `refused` (the server said no; it will not retry), or
 * `unsubscribed`.
 */
export type SubscriptionState = "subscribing" | "subscribed" | "refused" | "unsubscribed";

/** A subscription; call `unsubscribe()` to stop it. */
export interface Subscription {
  readonly channel: string;
  /** Where it stands now. */
  readonly state: SubscriptionState;
  /** The last position delivered (sent as `since` on re-subscribe), or null. */
  readonly position: Position | null;
  /** Whether the server sends this channel's messages as patches now (delta confirmed). */
  readonly delta: boolean;
  unsubscribe(): void;
}

type Handlers = SubscriptionHandlers<unknown>;
type Subscribed = Extract<ServerMessage, { type: "subscribed" }>;
type Published = Extract<ServerMessage, { type: "message" }>;
type PresenceEvent = Extract<ServerMessage, { type: "join" | "leave" }>;

/** The subscriptions of one client; `send` returns false when nothing could be sent. */
export class Subscriptions {
  #send: (message: OutgoingMessage) => boolean;
  #channels = new Map<string, Set<Handlers>>();
  /** Confirmed channels (on the current connection). */
  #confirmed = new Set<string>();
  /** Channels the server refused. */
  #refusedChannels = new Set<string>();
  /** Last position seen per channel: sent as `since` when re-subscribing. */
  #positions = new Map<string, Position>();
  /** Request id → channel, for subscribe requests awaiting their reply. */
  #pending = new Map<string, string>();
  /** Channels to subscribe with `delta: true` (asked by one of their subscriptions). */
  #wantDelta = new Set<string>();
  #bases = new DeltaBases();
  #defaultDelta: boolean;
  #nextId = 0;

  /** `delta`: whether subscriptions ask for delta when their options do not say. */
  constructor(send: (message: OutgoingMessage) => boolean, options: { delta?: boolean } = {}) {
    this.#send = send;
    this.#defaultDelta = options.delta ?? false;
  }

  /**
   * Adds handlers to `channel`; the first ones subscribe (now if connected). `delta`
   * asked by a later subscription of a subscribed channel applies from its next
   * (re)subscribe.
   */
  add<T>(
    channel: string,
    handlers: SubscriptionHandlers<T>,
    options: SubscribeOptions = {},
  ): Subscription {
    let set = this.#channels.get(channel);
    const first = !set;
    if (!set) this.#channels.set(channel, set = new Set());
    const h = handlers as Handlers;
    set.add(h);
    if (options.delta ?? this.#defaultDelta) this.#wantDelta.add(channel);
    if (first) {
      this.#refusedChannels.delete(channel);
      this.#subscribe(channel);
    } else if (this.#confirmed.has(channel)) {
      // Joining a confirmed subscription: tell these handlers too, as if just confirmed.
      const position = this.#positions.get(channel);
      queueMicrotask(() => {
        if (this.#channels.get(channel)?.has(h) && this.#confirmed.has(channel)) {
          h.onSubscribed?.(position ? { position } : {});
        }
      });
    }
    let unsubscribed = false;
    // deno-lint-ignore no-this-alias
    const subs = this;
    return {
      channel,
      get state(): SubscriptionState {
        if (unsubscribed) return "unsubscribed";
        if (subs.#channels.get(channel) !== set) {
          return subs.#refusedChannels.has(channel) ? "refused" : "unsubscribed";
        }
        return subs.#confirmed.has(channel) ? "subscribed" : "subscribing";
      },
      get position() {
        return subs.#positions.get(channel) ?? null;
      },
      get delta() {
        return !unsubscribed && subs.#channels.get(channel) === set && subs.#bases.active(channel);
      },
      unsubscribe: () => {
        unsubscribed = true;
        const current = this.#channels.get(channel);
        // Only the handlers of this very subscription: a refused one may be re-added.
        if (current !== set || !current.delete(h) || current.size > 0) return;
        this.#channels.delete(channel);
        this.#positions.delete(channel);
        this.#confirmed.delete(channel);
        this.#wantDelta.delete(channel);
        this.#bases.forget(channel);
        for (const [id, c] of this.#pending) if (c === channel) this.#pending.delete(id);
        this.#send({ type: "unsubscribe", channel });
      },
    };
  }

  /** The connection is gone: every subscription waits to be confirmed again. */
  disconnected(): void {
    this.#confirmed.clear();
    this.#bases.clear();
  }

  /** A new connection: subscribe to every channel again, from the last position seen. */
  resubscribe(): void {
    this.#pending.clear();
    this.#confirmed.clear();
    this.#bases.clear();
    for (const channel of this.#channels.keys()) this.#subscribe(channel);
  }

  /**
   * Delivers a `message` frame, each offset of an epoch once. A message of a new epoch
   * after messages of another (the channel's history expired or was lost, offsets restart
   * at 1) first resets the handlers: what they built from the old epoch is stale.
   * A patch (`delta: true`) is rebuilt against the last value received first; one that
   * cannot be (no base: should not happen) is dropped and a full value asked for by
   * subscribing again, which the server answers with `subscribed` and a full message.
   */
  message(message: Published): void {
    // Late messages of a channel no longer subscribed (before `unsubscribed`): nothing to do.
    if (!this.#channels.has(message.channel)) return;
    const resolved = this.#bases.resolve(message);
    if (!resolved.deliver) {
      if (resolved.askFull) this.#subscribe(message.channel);
      return;
    }
    let reset = false;
    if (message.offset !== undefined && message.epoch !== undefined) {
      const seen = this.#positions.get(message.channel);
      // A replay and the live stream may overlap by a message: deliver each offset once.
      if (seen && seen.epoch === message.epoch && message.offset <= seen.offset) return;
      reset = seen !== undefined && seen.epoch !== message.epoch && seen.offset > 0;
      this.#positions.set(message.channel, { epoch: message.epoch, offset: message.offset });
    }
    const meta: MessageMeta = {
      ts: message.ts,
      ...(message.offset !== undefined ? { offset: message.offset } : {}),
      ...(message.epoch !== undefined ? { epoch: message.epoch } : {}),
      ...(message.from !== undefined ? { from: message.from } : {}),
      ...(message.fromName !== undefined ? { fromName: message.fromName } : {}),
    };
    for (const h of this.#channels.get(message.channel) ?? []) {
      if (reset) h.onReset?.();
      h.onMessage(resolved.data, meta);
    }
  }

  /** Delivers a presence `join` / `leave` frame to the channel's handlers. */
  presence(message: PresenceEvent): void {
    for (const h of this.#channels.get(message.channel) ?? []) {
      if (message.type === "join") h.onJoin?.(message.data);
      else h.onLeave?.(message.data);
    }
  }

  /** Handles a `subscribed` frame. */
  subscribed(message: Subscribed): void {
    if (message.id !== undefined) this.#pending.delete(message.id);
    if (this.#channels.has(message.channel)) this.#confirmed.add(message.channel);
    const { epoch, offset, recovered, snapshot, delta } = message.data;
    // The server starts over: its next message on the channel is full.
    this.#bases.subscribed(message.channel, delta === true && this.#channels.has(message.channel));
    // Recovered: the replay that follows advances our position message by message.
    // Otherwise the stream continues after the server's position.
    if (epoch !== undefined && offset !== undefined && recovered !== true) {
      this.#positions.set(message.channel, { epoch, offset });
    }
    for (const h of this.#channels.get(message.channel) ?? []) {
      h.onSubscribed?.({
        recovered,
        ...(epoch !== undefined && offset !== undefined ? { position: { epoch, offset } } : {}),
      });
      if (recovered === false) h.onReset?.();
      if (snapshot !== undefined) h.onSnapshot?.(snapshot);
    }
  }

  /**
   * Handles an `error` answering a subscribe. A temporary one (rate limit, history
   * unavailable) keeps the subscription and returns `{ retry: channel }` for the caller
   * to subscribe again later (see {@linkcode retry}); a permanent one drops it and tells
   * its handlers. A `bad_message` answering a subscribe that asked for delta (a server
   * older than delta messages refuses the unknown field) is retried without delta.
   * Returns false when `id` is not a subscribe's.
   */
  refused(id: string, error: ErrorData): false | { retry?: string } {
    const channel = this.#pending.get(id);
    if (channel === undefined) return false;
    this.#pending.delete(id);
    if (error.temporary && this.#channels.has(channel)) return { retry: channel };
    if (error.code === "bad_message" && this.#wantDelta.delete(channel)) {
      return { retry: channel };
    }
    // The server refused the subscription: it will not start existing by retrying.
    const handlers = this.#channels.get(channel) ?? [];
    this.#channels.delete(channel);
    this.#positions.delete(channel);
    this.#confirmed.delete(channel);
    this.#wantDelta.delete(channel);
    this.#bases.forget(channel);
    this.#refusedChannels.add(channel);
    for (const h of handlers) h.onError?.(error);
    return {};
  }

  /** Subscribes to `channel` again after a temporary refusal, if it is still wanted. */
  retry(channel: string): void {
    if (this.#channels.has(channel) && !this.#confirmed.has(channel)) this.#subscribe(channel);
  }

  #subscribe(channel: string): void {
    const id = `s${this.#nextId + 1}`;
    const since = this.#positions.get(channel);
    const delta = this.#wantDelta.has(channel);
    const sent = this.#send({
      type: "subscribe",
      id,
      channel,
      ...(since ? { since } : {}),
      ...(delta ? { delta } : {}),
    });
    if (!sent) return;
    this.#nextId++;
    this.#pending.set(id, channel);
  }
}
