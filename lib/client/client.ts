/**
 * The real-time client: one socket, a connection state machine, full-jitter reconnects,
 * subscriptions that re-subscribe themselves after every reconnect, acknowledged
 * publishes with an offline queue, in-band token refresh and RTT measurement.
 */
import { CloseCode, shouldReconnect } from "../protocol/codes.ts";
import { MAX_HISTORY_LIMIT } from "../protocol/limits.ts";
import type { ConnectedData, ServerMessage } from "../protocol/messages.ts";
import { backoffDelay } from "./backoff.ts";
import { type PublishError, RequestError } from "./errors.ts";
import { type ResolvedOptions, resolveOptions } from "./options.ts";
import { Publisher, type SendOutcome } from "./publisher.ts";
import { Pinger } from "./quality.ts";
import { Requests } from "./requests.ts";
import { type Subscription, Subscriptions } from "./subscriptions.ts";
import { TokenKeeper } from "./token.ts";
import type {
  ClientOptions,
  CodecName,
  ConnectionQuality,
  ConnectionState,
  HistoryOptions,
  HistoryPage,
  PresenceList,
  PublishOptions,
  PublishResult,
  PublishSettlement,
  StateChange,
  SubscribeOptions,
  SubscriptionHandlers,
  Timers,
  WebSocketLike,
} from "./types.ts";
import {
  codecReady,
  decodeFrames,
  defaultCreateSocket,
  encodeFrame,
  frameTooLarge,
  loadMsgpack,
  negotiatedCodec,
  type OutgoingMessage,
  subprotocolOffers,
} from "./wire.ts";

export type { Subscription } from "./subscriptions.ts";

const OPEN = 1;

type Listener = (change: StateChange) => void;

/** A connection to the gateway. */
export class RealtimeClient {
  #options: ResolvedOptions;
  #timers: Timers;
  #state: ConnectionState = "disconnected";
  #socket: WebSocketLike | null = null;
  #codec: CodecName = "json";
  /** The current socket received `connected`: publishes and refreshes may go. */
  #established = false;
  /** Bumped by every attempt and by `disconnect()`: async steps of older ones stop. */
  #generation = 0;
  #retryTimer: unknown = null;
  #attempt = 0;
  #nextRetryAt: number | null = null;
  #listeners = new Set<Listener>();
  #subscriptions: Subscriptions;
  /** Temporary subscribe refusals per channel, for the retry backoff. */
  #subscribeRetries = new Map<string, number>();
  #publisher: Publisher;
  #requests: Requests;
  #tokens: TokenKeeper | null;
  #pinger: Pinger;
  #heartbeat: { intervalMs: number; timeoutMs: number } | null = null;
  #deadLinkTimer: unknown = null;
  #maxFrameBytes: number | null = null;
  #connectedOnce = false;
  #reconnects = 0;
  #connectedSince: number | null = null;
  #lastMessageAt: number | null = null;

  constructor(options: ClientOptions) {
    const o = this.#options = resolveOptions(options);
    this.#timers = o.timers;
    const send = (message: OutgoingMessage) => this.#send(message);
    this.#subscriptions = new Subscriptions(send, { delta: o.delta });
    this.#publisher = new Publisher({
      sendPublish: (id, channel, data) => this.#sendPublish(id, channel, data),
      timers: o.timers,
      random: o.random,
    }, o);
    this.#requests = new Requests({ send, timers: o.timers });
    this.#tokens = o.getToken
      ? new TokenKeeper(o.getToken, {
        timers: o.timers,
        sendRefresh: (id, token) => this.#established && send({ type: "refresh", id, token }),
      })
      : null;
    this.#pinger = new Pinger(o.timers, o.pingIntervalMs, (id) => send({ type: "ping", id }));
  }

  /** The current state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Failed connection attempts since the last successful connect. */
  get attempt(): number {
    return this.#attempt;
  }

  /** When the next reconnect attempt is scheduled (ms since epoch), or null. */
  get nextRetryAt(): number | null {
    return this.#nextRetryAt;
  }

  /** Publishes not yet settled (queued offline, in flight, or waiting to be resent). */
  get pendingPublishes(): number {
    return this.#publisher.size;
  }

  /** Listens to state changes; returns a function that stops listening. */
  onStateChange(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Listens to publishes that finally failed; returns a function that stops listening. */
  onPublishFailed(listener: (error: PublishError) => void): () => void {
    return this.#publisher.onFailed(listener);
  }

  /**
   * Listens to the outcome of every publish, including those restored from `storage`
   * (whose promises are gone); returns a function that stops listening.
   */
  onPublishSettled(listener: (settlement: PublishSettlement) => void): () => void {
    return this.#publisher.onSettled(listener);
  }

  /** RTT, reconnects and activity of the connection. */
  quality(): ConnectionQuality {
    return {
      rttMs: this.#pinger.rttMs,
      reconnects: this.#reconnects,
      connectedSince: this.#connectedSince,
      lastMessageAt: this.#lastMessageAt,
    };
  }

  /**
   * Opens the connection. Idempotent. While waiting to reconnect, retries at once
   * (e.g. the browser came back online).
   */
  connect(): void {
    if (this.#state === "connecting" || this.#state === "connected") return;
    if (this.#state === "reconnecting") {
      if (this.#retryTimer === null) return; // an attempt is under way
      this.#clearRetry();
      return this.#open();
    }
    this.#attempt = 0;
    this.#setState("connecting");
    this.#open();
  }

  /** Closes the connection and stops reconnecting; unacknowledged publishes stay queued. */
  disconnect(): void {
    this.#generation++;
    this.#clearRetry();
    const socket = this.#teardown();
    if (socket) {
      socket.onclose = null;
      socket.close(CloseCode.Normal, "client disconnect");
    }
    if (this.#state !== "disconnected") this.#setState("disconnected");
  }

  /**
   * Subscribes to `channel`; survives reconnects. `options.delta` asks for messages as
   * patches on a latest-value channel (the SDK rebuilds the full values).
   */
  subscribe<T>(
    channel: string,
    handlers: SubscriptionHandlers<T>,
    options?: SubscribeOptions,
  ): Subscription {
    return this.#subscriptions.add(channel, handlers, options);
  }

  /**
   * Publishes `data` to `channel`. Resolves with where the server committed it (its
   * `ack`); rejects with a `PublishError` when it finally fails (also emitted to
   * `onPublishFailed`). While not connected, the publish waits in the queue.
   */
  publish<T>(channel: string, data: T, options?: PublishOptions): Promise<PublishResult> {
    return this.#publisher.publish(channel, data, options);
  }

  /**
   * The newest `limit` (default 50, at most 100) messages `channel` still keeps — with
   * `before`, those with an offset below it — oldest first, with the channel's current
   * position. Needs the right to subscribe, not a subscription. While not connected the
   * request waits for the connection; it rejects with a `RequestError` on the server's
   * `error` (`forbidden`, `unauthorized`, `unknown_channel`, `rate_limited`, `internal`…),
   * with `timeout` after `requestTimeoutMs` in all (or `options.timeoutMs`), and with
   * `disconnected` when the connection drops after it was sent. Not retried by itself.
   */
  history<T>(channel: string, options: HistoryOptions = {}): Promise<HistoryPage<T>> {
    const { limit, before } = options;
    const bad = limit !== undefined &&
        !(Number.isInteger(limit) && limit >= 1 && limit <= MAX_HISTORY_LIMIT)
      ? `limit must be an integer from 1 to ${MAX_HISTORY_LIMIT}, got ${limit}`
      : before !== undefined && !(Number.isInteger(before) && before >= 0)
      ? `before must be an offset (an integer ≥ 0), got ${before}`
      : null;
    if (bad) {
      return Promise.reject(
        new RequestError(
          "bad_message",
          "history",
          channel,
          "",
          `Cannot read history of ${channel}: ${bad}`,
        ),
      );
    }
    return this.#requests.request("history", channel, (id) => ({
      type: "history",
      id,
      channel,
      ...(limit !== undefined ? { limit } : {}),
      ...(before !== undefined ? { before } : {}),
    }), options.timeoutMs ?? this.#options.requestTimeoutMs) as Promise<HistoryPage<T>>;
  }

  /**
   * Who is present on `channel` (a namespace that tracks presence): the members (the
   * server lists at most its `maxPresenceMembers`; `truncated` says so) and their count.
   * Needs the right to subscribe. Waits for the connection and fails like
   * {@linkcode history}. Keep a list current with a subscription's `onJoin` / `onLeave`.
   */
  presence(channel: string, options: { timeoutMs?: number } = {}): Promise<PresenceList> {
    return this.#requests.request(
      "presence",
      channel,
      (id) => ({ type: "presence", id, channel }),
      options.timeoutMs ?? this.#options.requestTimeoutMs,
    ) as Promise<PresenceList>;
  }

  /** Fails every unsettled publish with `cancelled` (e.g. on sign-out); returns how many. */
  clearOutbox(): number {
    return this.#publisher.clear();
  }

  /** One connection attempt: fetches a token / loads the codec first when needed. */
  #open(): void {
    const generation = ++this.#generation;
    const tokens = this.#tokens;
    const codec = this.#options.codec;
    if (!tokens?.needsFetch() && codecReady(codec)) {
      return this.#createSocket(tokens?.current ?? undefined);
    }
    Promise.all([tokens?.forAttempt(), codecReady(codec) ? undefined : loadMsgpack()]).then(
      ([token]) => {
        if (generation === this.#generation) this.#createSocket(token);
      },
      () => {
        if (generation === this.#generation) this.#scheduleReconnect();
      },
    );
  }

  #createSocket(token: string | undefined): void {
    const create = this.#options.createSocket ?? defaultCreateSocket;
    let socket: WebSocketLike;
    try {
      socket = create(
        this.#options.url,
        token,
        subprotocolOffers(this.#options.codec, this.#options.batch),
      );
    } catch {
      return this.#scheduleReconnect();
    }
    socket.binaryType = "arraybuffer"; // binary frames as ArrayBuffer, decoded synchronously
    this.#socket = socket;
    socket.onopen = () => {
      if (this.#socket === socket) this.#opened(socket);
    };
    socket.onmessage = (event) => {
      if (this.#socket === socket) this.#receive(socket, event.data);
    };
    socket.onclose = (event) => {
      if (this.#socket === socket) this.#lost(event.code);
    };
    socket.onerror = () => {};
  }

  #opened(socket: WebSocketLike): void {
    this.#codec = negotiatedCodec(socket, this.#options.codec);
    this.#attempt = 0;
    this.#nextRetryAt = null;
    this.#connectedSince = this.#timers.now();
    if (this.#connectedOnce) this.#reconnects++;
    this.#connectedOnce = true;
    this.#setState("connected");
    this.#subscriptions.resubscribe();
  }

  /** The `connected` frame: the session is established. */
  #onConnected(data: ConnectedData): void {
    this.#heartbeat = data.heartbeat;
    this.#maxFrameBytes = data.limits?.maxFrameBytes ?? null;
    this.#established = true;
    this.#armDeadLink();
    this.#tokens?.connected(data.user?.expiresAt ?? null);
    this.#pinger.start();
    // After the re-subscribes (sent on open): queued publishes, in order and within the
    // server's rate limit; then requests.
    this.#publisher.setRate(data.limits?.messagesPerSecond, data.limits?.messageBurst);
    this.#publisher.resume();
    this.#requests.resume();
  }

  #receive(socket: WebSocketLike, data: unknown): void {
    // A batched frame holds several messages, in order; one of them may end this socket's
    // session (the rest then belongs to a socket no longer ours).
    for (const message of decodeFrames(data)) {
      if (this.#socket !== socket) return;
      this.#handle(message);
    }
  }

  #handle(message: ServerMessage): void {
    this.#lastMessageAt = this.#timers.now();
    this.#armDeadLink();
    switch (message.type) {
      case "message":
        return this.#subscriptions.message(message);
      case "ping":
        this.#send({ type: "pong" });
        return;
      case "pong":
        this.#pinger.pong(message.id);
        return;
      case "connected":
        return this.#onConnected(message.data);
      case "subscribed":
        this.#subscribeRetries.delete(message.channel);
        return this.#subscriptions.subscribed(message);
      case "ack":
        this.#publisher.ack(message.id, message.data);
        return;
      case "join":
      case "leave":
        return this.#subscriptions.presence(message);
      case "presence":
        this.#requests.reply("presence", message.id, message.data);
        return;
      case "history":
        this.#requests.reply("history", message.id, message.data);
        return;
      case "expiring":
        return this.#tokens?.expiring(message.data.expiresAt);
      case "refreshed":
        this.#tokens?.refreshed(message.id, message.data.expiresAt);
        return;
      case "error":
        return this.#error(message);
      case "disconnect":
        // Under `deno serve` the close code may be 1001: the frame tells the real reason.
        if (message.data.code === CloseCode.TokenExpired) this.#tokens?.markStale();
        return;
    }
  }

  #error(message: Extract<ServerMessage, { type: "error" }>): void {
    const { id, data } = message;
    if (id === undefined) return;
    if (this.#publisher.error(id, data)) return;
    if (this.#tokens?.error(id, data)) return;
    if (this.#requests.error(id, data)) return;
    const refused = this.#subscriptions.refused(id, data);
    if (refused && refused.retry !== undefined) {
      // Temporary (rate limit, history unavailable): try again, backing off per channel.
      const channel = refused.retry;
      const attempt = (this.#subscribeRetries.get(channel) ?? 0) + 1;
      this.#subscribeRetries.set(channel, attempt);
      const delay = backoffDelay(attempt, { minMs: 1_000, maxMs: 30_000 }, this.#options.random);
      this.#timers.setTimeout(() => this.#subscriptions.retry(channel), Math.max(250, delay));
    }
  }

  /**
   * A link is dead when the server, which pings every `intervalMs`, has sent nothing
   * for `intervalMs + timeoutMs`: drop the socket and reconnect.
   */
  #armDeadLink(): void {
    this.#timers.clearTimeout(this.#deadLinkTimer);
    this.#deadLinkTimer = null;
    const hb = this.#heartbeat;
    const socket = this.#socket;
    if (!hb || !socket) return;
    this.#deadLinkTimer = this.#timers.setTimeout(() => {
      this.#deadLinkTimer = null;
      if (this.#socket !== socket) return;
      this.#lost(CloseCode.HeartbeatTimeout);
      socket.onclose = null;
      socket.close(CloseCode.HeartbeatTimeout, "no ping from server");
    }, hb.intervalMs + hb.timeoutMs);
  }

  /** The one path of a lost connection: reconnect, or stop on a terminal code. */
  #lost(code: number): void {
    const established = this.#established;
    this.#teardown();
    // A token the server refused (at the handshake, or expired) is never offered again.
    if (code === CloseCode.TokenExpired || !established) this.#tokens?.markStale();
    if (shouldReconnect(code)) return this.#scheduleReconnect();
    this.#setState("closed");
  }

  /** Forgets the current socket: per-connection timers stop, publishes wait. */
  #teardown(): WebSocketLike | null {
    const socket = this.#socket;
    this.#socket = null;
    this.#established = false;
    this.#connectedSince = null;
    this.#timers.clearTimeout(this.#deadLinkTimer);
    this.#deadLinkTimer = null;
    this.#pinger.stop();
    this.#tokens?.disconnected();
    this.#publisher.suspend();
    this.#requests.suspend();
    this.#subscriptions.disconnected();
    return socket;
  }

  #scheduleReconnect(): void {
    const delay = backoffDelay(
      this.#attempt,
      { minMs: this.#options.minReconnectDelayMs, maxMs: this.#options.maxReconnectDelayMs },
      this.#options.random,
    );
    this.#attempt++;
    this.#nextRetryAt = this.#timers.now() + delay;
    this.#setState("reconnecting");
    this.#retryTimer = this.#timers.setTimeout(() => {
      this.#retryTimer = null;
      this.#open();
    }, delay);
  }

  #clearRetry(): void {
    this.#timers.clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#nextRetryAt = null;
  }

  #send(message: OutgoingMessage): boolean {
    const socket = this.#socket;
    if (socket?.readyState !== OPEN) return false;
    socket.send(encodeFrame(this.#codec, message));
    return true;
  }

  #sendPublish(id: string, channel: string, data: unknown): SendOutcome {
    const socket = this.#socket;
    if (!this.#established || socket?.readyState !== OPEN) return "offline";
    let frame: string | Uint8Array;
    try {
      frame = encodeFrame(this.#codec, { type: "publish", id, channel, data });
    } catch {
      return "unencodable";
    }
    const max = this.#maxFrameBytes;
    if (max !== null && frameTooLarge(frame, max)) return "too_large";
    socket.send(frame);
    return "sent";
  }

  #setState(newState: ConnectionState): void {
    const oldState = this.#state;
    if (oldState === newState) return;
    this.#state = newState;
    for (const listener of this.#listeners) listener({ oldState, newState });
  }
}
