/**
 * The gateway hub: the connections of one isolate, their subscriptions and presence,
 * the message pipeline (middleware → handlers), fan-out with backpressure, heartbeats
 * and limits. Knows sockets only through {@linkcode Transport}, users only through
 * {@linkcode Principal}, channels only through {@linkcode Namespaces}.
 */
import type { Logger } from "../app/log.ts";
import type { Principal, UpgradeAuthenticator } from "../auth/types.ts";
import {
  type ClientMessage,
  CloseCode,
  CODECS,
  decodeClientFrame,
  DEFAULT_HISTORY_LIMIT,
  ErrorCode,
  type HistoryEntry,
  MAX_PAYLOAD_DEPTH,
  payloadProblem,
  type ProtocolError,
  protocolError,
  type ServerMessage,
  shouldReconnect,
} from "../protocol/mod.ts";
import { Connection, type ConnectionInit } from "./connection.ts";
import { DEFAULT_LIMITS, type GatewayLimits } from "./limits.ts";
import type { HistoryPage, HistoryQuery, Position, Recovery } from "../bus/engine.ts";
import { byteLength, type Encoded, encoded, FrameCache } from "./frames.ts";
import { createGatewayMetrics, type GatewayMetrics } from "./metrics.ts";
import { Batcher } from "./batching.ts";
import { type FlowOptions, Outbound } from "./outbound.ts";
import { type LastPublication, PublicationFrames } from "./publication.ts";
import { allowed, type Namespaces, resolveChannel, type ResolvedChannel } from "./namespaces.ts";
import {
  Presence,
  type PresenceAnnouncer,
  type PresenceChange,
  type PresenceList,
  type PresenceTracker,
} from "./presence.ts";
import { TimingWheel } from "./timing_wheel.ts";
import type { Transport } from "./transport.ts";

export { Connection } from "./connection.ts";

/** The context a message middleware sees. */
export interface MessageContext {
  readonly hub: Hub;
  readonly conn: Connection;
  readonly message: ClientMessage;
  readonly now: number;
}

/**
 * A message middleware: call `next()` to pass the message on, or answer / drop it.
 * Registered with {@linkcode Hub.use}; runs after decoding and validation.
 */
export type Middleware = (
  ctx: MessageContext,
  next: () => void | Promise<void>,
) => void | Promise<void>;

/** What a publish handler reports back in the client's `ack`. */
export interface PublishReceipt {
  /** The committed position (a bus assigns it). */
  offset?: number;
  epoch?: string;
  /** Local connections reached (local fan-out only). */
  deliveredTo?: number;
}

/**
 * Refuses a publish for good, thrown by a {@linkcode PublishHandler}: the client gets an
 * `error` with `code`, `temporary: false` (e.g. `payload_too_large` for a message the
 * store can never hold). Anything else a handler throws answers `internal` (temporary).
 */
export class PublishRefusal extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
    this.name = "PublishRefusal";
  }
}

/**
 * Receives client publishes that passed every check. `id` is the client's message id:
 * a retry of the same publish carries the same id (make it idempotent per user, channel
 * and id). Throw {@linkcode PublishRefusal} to refuse one permanently.
 */
export type PublishHandler = (
  channel: ResolvedChannel & { channel: string },
  data: unknown,
  from: Principal,
  id: string,
) => PublishReceipt | Promise<PublishReceipt>;

/** Positions and history of channels (a bus engine provides them). */
export interface HistorySource {
  position(channel: string): Promise<Position>;
  recover(channel: string, since: Position): Promise<Recovery>;
  /** The newest kept messages (below `before`), oldest first, for `history` requests. */
  history(channel: string, query: HistoryQuery): Promise<HistoryPage>;
}

/** Options for {@linkcode Hub}. */
export interface HubOptions {
  /** Identifies this isolate in `connected` frames, logs and status. */
  serverId: string;
  namespaces: Namespaces;
  /** Overrides of {@linkcode DEFAULT_LIMITS}. */
  limits?: Partial<GatewayLimits>;
  /** Verifies in-band `refresh` tokens. Without it, `refresh` is refused. */
  auth?: Pick<UpgradeAuthenticator, "verifyAccessToken">;
  /** Where accepted client publishes go; default: local fan-out with {@linkcode Hub.deliver}. */
  onPublish?: PublishHandler;
  /**
   * Channel positions and history: subscriptions then answer with the channel's
   * position, and `subscribe.since` replays what was missed (all or nothing).
   */
  history?: HistorySource;
  /**
   * Who is present on presence channels. Default: this isolate's ({@linkcode Presence});
   * the app passes the cluster's (lib/cluster/presence.ts). Called once, with the
   * function that sends a `join` / `leave` to this hub's subscribers of a channel.
   */
  presence?: (announce: PresenceAnnouncer) => PresenceTracker;
  /** Told of every connection opened and closed (e.g. cluster-wide connection counts). */
  observer?: ConnectionObserver;
  /** Clock; default `Date.now`. */
  now?: () => number;
  log?: Logger;
  /**
   * Coalesce latest-value publications: `deliver` records the newest value of the channel
   * and one fan-out per channel runs when the event loop next turns (a macrotask), so
   * values that arrive faster than they can be sent are skipped, newest wins, for
   * everyone. Default false: `deliver` fans out at once (tests rely on it).
   */
  coalesceLatest?: boolean;
  /**
   * Flow control of latest-value channels (lib/gateway/outbound.ts: a client behind on a
   * ping gets only the newest values); `DEFAULT_FLOW` from there. Default: none.
   */
  flow?: FlowOptions;
}

/** Told of connections as they open and close (after the hub's own bookkeeping). */
export interface ConnectionObserver {
  opened(conn: Connection): void;
  closed(conn: Connection): void;
}

/** Counters exposed by {@linkcode Hub.stats}. */
export interface HubStats {
  connections: number;
  /** Connections without a signed-in user. */
  anonymous: number;
  users: number;
  channels: number;
  subscriptions: number;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  errorsSent: number;
  /** Connections whose socket is behind, with latest-value messages held back. */
  behind: number;
}

/** What {@linkcode Hub.deliver} takes besides channel and data. */
export interface PublishOptions {
  from?: string;
  fromName?: string;
  ts?: number;
  offset?: number;
  epoch?: string;
}

const PING = { v: 1, type: "ping" } as const;
const EXPIRY_NOTICE_MS = 60_000;
const EXPIRY_GRACE_MS = 5_000;
const STRIKE_WINDOW_MS = 10_000;
/**
 * Period of the timer that drives heartbeats, pong deadlines, credential expiry and idle
 * closes, ms: each is acted on within one period (plus timer lateness) of being due.
 */
export const HEARTBEAT_TICK_MS = 50;
/** `history` reads one connection may have in flight; more are refused with `rate_limited`. */
export const MAX_HISTORY_READS_IN_FLIGHT = 4;
/**
 * Bytes of message data (as JSON) one `history` reply carries at most (and at most half
 * of `maxBufferedBytes`): older messages beyond it are left for the next page.
 */
export const MAX_HISTORY_PAGE_BYTES = 256 * 1024;

/** Connections, subscriptions and presence of one isolate. */
export class Hub {
  readonly limits: Readonly<GatewayLimits>;
  readonly metrics: GatewayMetrics;
  readonly presence: PresenceTracker;
  #options: HubOptions;
  #now: () => number;
  #connections = new Map<string, Connection>();
  #byUser = new Map<string, Set<Connection>>();
  #byIp = new Map<string, number>();
  #subscribers = new Map<string, Set<Connection>>();
  /** The last publication on each latest-value channel with subscribers (delta bases). */
  #latest = new Map<string, LastPublication>();
  #publicationSeq = 0;
  #middlewares: Middleware[] = [];
  #nextId = 0;
  #errorsSent = 0;
  #anonymous = 0;
  #timers: ReturnType<typeof setInterval>[] = [];
  /** A check of sockets holding latest values for their backlog (`FlowOptions.drainMs`). */
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  /** One frame per connection and task for connections that negotiated batching. */
  #batcher: Batcher;
  #totals = { messagesIn: 0, bytesIn: 0 };
  #out: Outbound;
  /** Latest-value publications waiting for the coalesced fan-out (`coalesceLatest`). */
  #dirty = new Map<string, { data: unknown; options: PublishOptions }>();
  #dirtyTimer: ReturnType<typeof setTimeout> | undefined;
  /** The event loop's recent delay, ms (a decaying maximum of the heartbeat timer's lateness). */
  #loopLagMs = 0;
  /**
   * Moving average of every connection's ping round trip, ms: what a pong takes here now
   * (a busy server reads every pong late; a slow reader's pong is late against the others).
   */
  #rttAvgMs = 0;
  /** The ping frame, encoded once per codec. */
  #pingFrames = new FrameCache(PING);
  /** Each connection once, at the time its next timed check is due. */
  #due: TimingWheel<Connection>;

  constructor(options: HubOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.presence =
      options.presence?.((channel, change, member) =>
        this.#announcePresence(channel, change, member)
      ) ?? new Presence(this.limits.maxPresenceMembers);
    this.#due = new TimingWheel({ now: this.#now(), tickMs: HEARTBEAT_TICK_MS });
    this.metrics = createGatewayMetrics({
      connections: () => this.#connections.size,
      subscriptions: () => this.stats().subscriptions,
      channels: () => this.#subscribers.size,
    });
    this.#batcher = new Batcher({
      onBatch: (messages) => {
        this.metrics.batchedFrames.inc();
        this.metrics.batchedMessages.inc({}, messages);
      },
    });
    this.#out = new Outbound({
      limits: this.limits,
      metrics: this.metrics,
      log: options.log,
      flow: options.flow,
      now: this.#now,
      loopLagMs: () => Math.max(this.#loopLagMs, this.#rttAvgMs),
      disconnect: (conn, code, reason) => this.disconnect(conn, code, reason),
      ping: (conn) => this.#ping(conn, this.#now(), this.#pingFrames.for(conn.codec)),
      drainSoon: (ms) => {
        this.#drainTimer ??= setTimeout(() => {
          this.#drainTimer = undefined;
          this.flush();
        }, ms);
      },
    });
    for (const codec of Object.values(CODECS)) this.#pingFrames.for(codec);
  }

  /** Adds a message middleware (runs after validation, before the handler, in order added). */
  use(middleware: Middleware): void {
    this.#middlewares.push(middleware);
  }

  /**
   * Starts the two timers of the hub: heartbeat checks every {@linkcode HEARTBEAT_TICK_MS}
   * (visiting only the connections that are due) and the backpressure flush every 100 ms.
   */
  start(): void {
    if (this.#timers.length > 0) return;
    let last = performance.now();
    this.#timers.push(setInterval(() => {
      // How late this timer fired: the event loop's own delay, which delays every pong we
      // read too (flow control must not take a busy server for slow clients).
      const at = performance.now();
      this.#loopLagMs = Math.max(at - last - HEARTBEAT_TICK_MS, this.#loopLagMs * 0.9, 0);
      last = at;
      this.heartbeat();
    }, HEARTBEAT_TICK_MS));
    this.#timers.push(setInterval(() => this.flush(), 100));
  }

  /** Stops the timers (and sends coalesced latest values still waiting). */
  stop(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    if (this.#dirtyTimer !== undefined) this.flushLatest();
    if (this.#drainTimer !== undefined) clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
    this.#batcher.flush();
  }

  // ---- admission -------------------------------------------------------------------

  /** Open connections of `userId` in this isolate. */
  connectionsOfUser(userId: string): number {
    return this.#byUser.get(userId)?.size ?? 0;
  }

  /** Open connections from `ip` in this isolate. */
  connectionsFromIp(ip: string): number {
    return this.#byIp.get(ip) ?? 0;
  }

  /** Registers a new connection and greets it with `connected`. */
  open(transport: Transport, init: ConnectionInit): Connection {
    const now = this.#now();
    const conn = new Connection(
      `${this.#options.serverId}-${++this.#nextId}`,
      init.batch ? this.#batcher.wrap(transport) : transport,
      init.codec,
      init.ip,
      init.principal,
      now,
      {
        perSecond: this.limits.messagesPerSecond,
        burst: this.limits.messageBurst,
        pingIntervalMs: this.limits.pingIntervalMs,
      },
    );
    this.#connections.set(conn.id, conn);
    this.#index(conn);
    this.#byIp.set(init.ip, (this.#byIp.get(init.ip) ?? 0) + 1);
    if (init.principal.anonymous) this.#anonymous++;
    this.metrics.connectionsOpened.inc();
    const p = init.principal;
    this.#send(conn, {
      v: 1,
      type: "connected",
      data: {
        session: conn.id,
        server: this.#options.serverId,
        user: { id: p.userId, name: p.name, anonymous: p.anonymous, expiresAt: p.expiresAt },
        codec: init.codec.name,
        ...(init.batch ? { batch: true as const } : {}),
        heartbeat: { intervalMs: this.limits.pingIntervalMs, timeoutMs: this.limits.pongTimeoutMs },
        limits: {
          maxFrameBytes: this.limits.maxFrameBytes,
          maxPublishBytes: this.limits.maxPublishBytes,
          maxSubscriptions: this.limits.maxSubscriptions,
          messagesPerSecond: this.limits.messagesPerSecond,
          messageBurst: this.limits.messageBurst,
          maxPayloadDepth: MAX_PAYLOAD_DEPTH,
        },
      },
    });
    this.#options.log?.debug("connection opened", { conn: conn.id, user: p.userId, ip: init.ip });
    this.#scheduleChecks(conn);
    this.#options.observer?.opened(conn);
    return conn;
  }

  /** The socket closed (from either side): forget the connection. Idempotent. */
  closed(conn: Connection, code = 1005): void {
    if (conn.closed) return;
    conn.closed = true;
    this.#connections.delete(conn.id);
    this.#due.cancel(conn);
    this.#unindex(conn);
    const ipCount = (this.#byIp.get(conn.ip) ?? 1) - 1;
    if (ipCount <= 0) this.#byIp.delete(conn.ip);
    else this.#byIp.set(conn.ip, ipCount);
    if (conn.principal.anonymous) this.#anonymous--;
    for (const channel of [...conn.channels]) this.#unsubscribe(conn, channel);
    if (conn.pending.size > 0) conn.pendingMap().clear();
    this.#out.forget(conn);
    this.metrics.disconnects.inc({ code: String(code) });
    this.#options.log?.debug("connection closed", { conn: conn.id, code });
    this.#options.observer?.closed(conn);
  }

  /**
   * Closes `conn` from the server side: tells it why in a `disconnect` frame (when the
   * socket can take it), closes the socket, forgets the connection.
   */
  disconnect(conn: Connection, code: number, reason: string): void {
    if (conn.closed) return;
    if (conn.transport.bufferedAmount <= this.limits.maxBufferedBytes) {
      const notice = encoded(conn.codec.encode({
        v: 1,
        type: "disconnect",
        data: { code, reason, reconnect: shouldReconnect(code) },
      }));
      this.#out.write(conn, notice);
      this.#out.countOut("disconnect", 1, notice.size);
    }
    this.closed(conn, code);
    conn.transport.close(code, reason);
  }

  /** Closes every connection for which `filter` is true; returns how many. */
  disconnectWhere(filter: (conn: Connection) => boolean, code: number, reason: string): number {
    let n = 0;
    for (const conn of [...this.#connections.values()]) {
      if (!filter(conn)) continue;
      this.disconnect(conn, code, reason);
      n++;
    }
    return n;
  }

  /** Closes every connection with `code` (e.g. on shutdown). */
  closeAll(code: number, reason: string): void {
    for (const conn of [...this.#connections.values()]) this.disconnect(conn, code, reason);
  }

  // ---- inbound ---------------------------------------------------------------------

  /** Handles one frame from `conn`: size, rate, decoding, middleware, handler. */
  receive(conn: Connection, frame: string | ArrayBuffer | Uint8Array): void {
    if (conn.closed) return;
    const now = this.#now();
    const size = byteLength(frame);
    conn.bytesIn += size;
    this.#totals.bytesIn += size;
    this.metrics.bytes.inc({ direction: "in" }, size);
    if (size > this.limits.maxFrameBytes) {
      this.metrics.messages.inc({ type: "oversized", direction: "in" });
      return this.disconnect(
        conn,
        CloseCode.MessageTooBig,
        `frame of ${size} bytes exceeds the limit of ${this.limits.maxFrameBytes}`,
      );
    }
    if (!conn.bucket.take(now)) {
      // The answer to our own ping passes (flow pings come several times a second to a
      // connection receiving much latest-value data): one small frame per ping sent.
      if (conn.pongCredit && size <= 64) conn.pongCredit = false;
      else return this.#rateLimited(conn, now);
    }
    conn.lastActivity = now;
    conn.messagesIn++;
    this.#totals.messagesIn++;
    const decoded = decodeClientFrame(frame, conn.codec);
    if (!decoded.ok) {
      this.metrics.messages.inc({ type: "invalid", direction: "in" });
      return this.#sendError(conn, decoded.error);
    }
    const message = decoded.message;
    this.metrics.messages.inc({ type: message.type, direction: "in" });
    const ctx: MessageContext = { hub: this, conn, message, now };
    const chain = this.#middlewares;
    const run = (i: number): void | Promise<void> =>
      i < chain.length ? chain[i](ctx, () => run(i + 1)) : this.#dispatch(conn, message, now);
    try {
      const result = run(0);
      if (result instanceof Promise) result.catch((err) => this.#internal(conn, message, err));
    } catch (err) {
      this.#internal(conn, message, err);
    }
  }

  #internal(conn: Connection, message: ClientMessage, err: unknown): void {
    this.#options.log?.error("message handler failed", { conn: conn.id, type: message.type, err });
    this.#sendError(
      conn,
      protocolError(
        ErrorCode.Internal,
        `Cannot handle ${message.type}: internal error`,
        message.id,
      ),
    );
  }

  #rateLimited(conn: Connection, now: number): void {
    this.metrics.rateLimited.inc({ scope: "messages" });
    if (now - conn.strikeWindowStart > STRIKE_WINDOW_MS) {
      conn.strikeWindowStart = now;
      conn.strikes = 0;
    }
    if (++conn.strikes >= this.limits.floodStrikes) {
      return this.disconnect(
        conn,
        CloseCode.Flood,
        "message flood: too many messages after rate_limited errors",
      );
    }
    // One error per second at most: answering every dropped message would amplify a flood.
    if (now - conn.lastRateErrorAt < 1_000) return;
    conn.lastRateErrorAt = now;
    const wait = conn.bucket.waitMs(now);
    this.#sendError(
      conn,
      protocolError(
        ErrorCode.RateLimited,
        `Cannot accept message: more than ${this.limits.messagesPerSecond}/s (burst ${this.limits.messageBurst}); messages are being dropped, retry in ${wait} ms`,
      ),
    );
  }

  #dispatch(conn: Connection, message: ClientMessage, now: number): void | Promise<void> {
    switch (message.type) {
      case "subscribe":
        return this.#subscribe(conn, message.channel, message.id, message.since, message.delta);
      case "unsubscribe":
        this.#unsubscribe(conn, message.channel);
        return this.#send(conn, {
          v: 1,
          type: "unsubscribed",
          channel: message.channel,
          ...(message.id ? { id: message.id } : {}),
        });
      case "publish":
        return this.#clientPublish(conn, message.id, message.channel, message.data);
      case "presence":
        return this.#presenceQuery(conn, message.id, message.channel);
      case "history":
        return this.#historyQuery(conn, message.id, message.channel, {
          limit: message.limit ?? DEFAULT_HISTORY_LIMIT,
          ...(message.before !== undefined ? { before: message.before } : {}),
        });
      case "ping":
        return this.#send(conn, { v: 1, type: "pong", ...(message.id ? { id: message.id } : {}) });
      case "pong":
        if (conn.pingSentAt !== null) {
          conn.rttMs = now - conn.pingSentAt;
          if (conn.rttMs < conn.minRttMs) conn.minRttMs = conn.rttMs;
          this.#rttAvgMs += (conn.rttMs - this.#rttAvgMs) * 0.05;
          conn.pingSentAt = null;
          conn.pongCredit = false;
          // Everything written before the ping has been read.
          conn.ackedBytes = conn.pingBytes;
          this.metrics.pingRttSeconds.observe(conn.rttMs / 1000);
          this.#scheduleChecks(conn);
          this.#out.acknowledged(conn);
        }
        return;
      case "refresh":
        return this.#refresh(conn, message.id, message.token);
    }
  }

  /** Resolves `channel` and checks `action`; else answers the error (`verb` words it). */
  #resolveFor(
    conn: Connection,
    channel: string,
    action: "subscribe" | "publish",
    id: string | undefined,
    verb: string = action,
  ): ResolvedChannel | null {
    const resolved = resolveChannel(this.#options.namespaces, channel);
    if ("error" in resolved) {
      this.#sendError(conn, protocolError(ErrorCode.UnknownChannel, resolved.error, id));
      return null;
    }
    const access = resolved.policy[action];
    if (!allowed(access, conn.principal, resolved.namespace, resolved.name)) {
      const anonymous = conn.principal.anonymous && access !== "none";
      this.#sendError(
        conn,
        protocolError(
          anonymous ? ErrorCode.Unauthorized : ErrorCode.Forbidden,
          anonymous
            ? `Cannot ${verb} ${channel}: sign in first (anonymous connections may read public channels only)`
            : `Cannot ${verb} ${channel}: not allowed for this user`,
          id,
        ),
      );
      return null;
    }
    return resolved;
  }

  #subscribe(
    conn: Connection,
    channel: string,
    id: string | undefined,
    since: Position | undefined,
    delta: boolean | undefined,
  ): void | Promise<void> {
    const resolved = this.#resolveFor(conn, channel, "subscribe", id);
    if (!resolved) return;
    if (!conn.channels.has(channel) && conn.channels.size >= this.limits.maxSubscriptions) {
      return this.#sendError(
        conn,
        protocolError(
          ErrorCode.TooManySubscriptions,
          `Cannot subscribe to ${channel}: the limit is ${this.limits.maxSubscriptions} subscriptions per connection`,
          id,
        ),
      );
    }
    const fresh = !conn.channels.has(channel);
    conn.channelSet().add(channel);
    // Delta on latest-value channels only (ignored on ordered ones, whose messages are
    // each delivered as published). A subscribe, even a repeated one, restarts it: the
    // next message goes full (a client missing its base asks for one this way).
    if (delta === true && resolved.policy.mode === "latest") conn.deltaMap().set(channel, 0);
    else if (conn.deltas.size > 0) conn.deltaMap().delete(channel);
    let set = this.#subscribers.get(channel);
    if (!set) this.#subscribers.set(channel, set = new Set());
    set.add(conn);
    const history = this.#options.history;
    if (history && fresh) {
      return this.#subscribeFromHistory(conn, resolved, channel, id, since, history);
    }
    this.#sendSubscribed(conn, resolved, channel, id, {}, true);
    if (fresh) this.#joinPresence(conn, resolved, channel);
  }

  #sendSubscribed(
    conn: Connection,
    resolved: ResolvedChannel,
    channel: string,
    id: string | undefined,
    position: { epoch?: string; offset?: number; recovered?: boolean },
    withSnapshot: boolean,
  ): void {
    const snapshot = withSnapshot ? resolved.policy.snapshot?.(resolved.name) : undefined;
    this.#send(conn, {
      v: 1,
      type: "subscribed",
      channel,
      ...(id ? { id } : {}),
      data: {
        ...position,
        ...(snapshot === undefined ? {} : { snapshot }),
        ...(resolved.policy.presence ? { presence: true } : {}),
        ...(conn.deltas.has(channel) ? { delta: true } : {}),
      },
    });
  }

  /**
   * Subscribes with the channel's position and, given `since`, replays what was missed.
   * Live messages that arrive meanwhile are held (bounded) and sent after the replay,
   * skipping any the replay already covered: nothing is lost, duplicated or reordered.
   */
  async #subscribeFromHistory(
    conn: Connection,
    resolved: ResolvedChannel,
    channel: string,
    id: string | undefined,
    since: Position | undefined,
    history: HistorySource,
  ): Promise<void> {
    conn.recoveringMap().set(channel, []);
    let recovery: Recovery;
    try {
      recovery = since
        ? await history.recover(channel, since)
        : { recovered: false, position: await history.position(channel) };
    } catch (err) {
      conn.recoveringMap().delete(channel);
      this.#unsubscribe(conn, channel);
      this.#options.log?.error("channel history unavailable", { channel, err });
      return this.#sendError(
        conn,
        protocolError(
          ErrorCode.Internal,
          `Cannot subscribe to ${channel}: history unavailable, retry`,
          id,
        ),
      );
    }
    // A coalesced publication still waiting goes now, into the held messages (filtered
    // by offset below), not after the subscription's position.
    this.#flushChannel(channel);
    const held = conn.recovering.get(channel);
    conn.recoveringMap().delete(channel);
    if (conn.closed || !conn.channels.has(channel) || !held) return;
    if (since) {
      this.metrics.recoveries.inc({ result: recovery.recovered ? "recovered" : "not_recovered" });
    }
    const { position } = recovery;
    this.#sendSubscribed(conn, resolved, channel, id, {
      epoch: position.epoch,
      offset: position.offset,
      ...(since ? { recovered: recovery.recovered } : {}),
    }, !recovery.recovered);
    let last = position.offset;
    if (recovery.recovered) {
      for (const m of recovery.messages) {
        this.#send(conn, {
          v: 1,
          type: "message",
          channel,
          ts: m.ts,
          data: m.data,
          offset: m.offset,
          epoch: m.epoch,
          ...(m.from ? { from: m.from } : {}),
          ...(m.fromName ? { fromName: m.fromName } : {}),
        });
      }
    }
    let bytes = 0;
    let written = 0;
    let holds = 0;
    for (const h of held) {
      if (h.offset !== undefined && h.offset <= last) continue;
      if (h.offset !== undefined) last = h.offset;
      this.#out.write(conn, h.enc);
      bytes += h.enc.size;
      written++;
      holds = h.enc.seq ?? 0;
    }
    this.#out.countOut("message", written, bytes);
    // Held messages went full: the last of them is what a patch may build on.
    if (conn.deltas.has(channel)) conn.deltaMap().set(channel, holds);
    this.#joinPresence(conn, resolved, channel);
  }

  #joinPresence(conn: Connection, resolved: ResolvedChannel, channel: string): void {
    if (resolved.policy.presence) {
      const p = conn.principal;
      const member = { userId: p.userId, name: p.name };
      this.#afterPresence(channel, this.presence.join(channel, p.userId, p.name), member);
    }
  }

  /** Announces what a (possibly later) tracker answer says changed. */
  #afterPresence(
    channel: string,
    change: PresenceChange | Promise<PresenceChange>,
    member: { userId: string; name: string },
  ): void {
    if (!(change instanceof Promise)) return this.#announcePresence(channel, change, member);
    change.then(
      (c) => this.#announcePresence(channel, c, member),
      (err) => this.#options.log?.warn("presence update failed", { channel, err }),
    );
  }

  /** Sends `join` / `leave` of `member` to this isolate's subscribers of `channel`. */
  #announcePresence(
    channel: string,
    change: PresenceChange,
    member: { userId: string; name: string },
  ): void {
    if (change === "unchanged") return;
    this.#fanout(channel, {
      v: 1,
      type: change === "joined" ? "join" : "leave",
      channel,
      data: { userId: member.userId, name: member.name },
    }, "ordered");
  }

  #unsubscribe(conn: Connection, channel: string): void {
    if (!conn.channels.has(channel)) return;
    conn.channelSet().delete(channel);
    if (conn.pending.size > 0) conn.pendingMap().delete(channel);
    if (conn.deltas.size > 0) conn.deltaMap().delete(channel);
    const set = this.#subscribers.get(channel);
    set?.delete(conn);
    if (set && set.size === 0) {
      this.#subscribers.delete(channel);
      this.#latest.delete(channel);
    }
    const p = conn.principal;
    const member = { userId: p.userId, name: p.name };
    this.#afterPresence(channel, this.presence.leave(channel, p.userId), member);
  }

  async #clientPublish(
    conn: Connection,
    id: string,
    channel: string,
    data: unknown,
  ): Promise<void> {
    const resolved = this.#resolveFor(conn, channel, "publish", id);
    if (!resolved) return;
    // Shape first: only then is JSON.stringify safe and the size meaningful.
    const problem = payloadProblem(data);
    if (problem !== null) {
      return this.#sendError(
        conn,
        protocolError(ErrorCode.BadMessage, `Cannot publish to ${channel}: ${problem}`, id),
      );
    }
    const size = byteLength(JSON.stringify(data));
    if (size > this.limits.maxPublishBytes) {
      return this.#sendError(
        conn,
        protocolError(
          ErrorCode.PayloadTooLarge,
          `Cannot publish to ${channel}: data is ${size} bytes, the limit is ${this.limits.maxPublishBytes}`,
          id,
        ),
      );
    }
    const from = conn.principal;
    let receipt: PublishReceipt;
    try {
      receipt = this.#options.onPublish
        ? await this.#options.onPublish({ ...resolved, channel }, data, from, id)
        : {
          deliveredTo: this.deliver(channel, data, { from: from.userId, fromName: from.name }),
        };
    } catch (err) {
      if (err instanceof PublishRefusal) {
        return this.#sendError(conn, protocolError(err.code, err.message, id));
      }
      this.#options.log?.error("publish failed", { channel, err });
      return this.#sendError(
        conn,
        protocolError(ErrorCode.Internal, `Cannot publish to ${channel}: not stored, retry`, id),
      );
    }
    if (conn.closed) return;
    this.#send(conn, { v: 1, type: "ack", id, channel, data: { ts: this.#now(), ...receipt } });
  }

  #presenceQuery(conn: Connection, id: string, channel: string): void | Promise<void> {
    const resolved = this.#resolveFor(conn, channel, "subscribe", id);
    if (!resolved) return;
    if (!resolved.policy.presence) {
      return this.#sendError(
        conn,
        protocolError(
          ErrorCode.UnknownChannel,
          `Cannot list presence of ${channel}: the namespace does not track presence`,
          id,
        ),
      );
    }
    const send = (data: PresenceList) => {
      if (!conn.closed) this.#send(conn, { v: 1, type: "presence", id, channel, data });
    };
    const fail = (err: unknown) => {
      this.#options.log?.error("presence unavailable", { channel, err });
      this.#sendError(
        conn,
        protocolError(ErrorCode.Internal, `Cannot list presence of ${channel}: retry`, id),
      );
    };
    // A tracker that knows answers at once; one that must ask the cluster answers later.
    const listed = this.presence.list(channel);
    if (!(listed instanceof Promise)) return send(listed);
    return listed.then(send, fail);
  }

  /**
   * Answers a `history` request: allowed exactly when subscribing would be (no
   * subscription needed); at most {@linkcode MAX_HISTORY_READS_IN_FLIGHT} per connection.
   */
  async #historyQuery(
    conn: Connection,
    id: string,
    channel: string,
    query: HistoryQuery,
  ): Promise<void> {
    const what = "read the history of";
    if (!this.#resolveFor(conn, channel, "subscribe", id, what)) return;
    const source = this.#options.history;
    if (!source) {
      return this.#sendError(
        conn,
        protocolError(ErrorCode.Internal, `Cannot ${what} ${channel}: no history here`, id),
      );
    }
    if (conn.historyReads >= MAX_HISTORY_READS_IN_FLIGHT) {
      return this.#sendError(
        conn,
        protocolError(
          ErrorCode.RateLimited,
          `Cannot ${what} ${channel}: ${MAX_HISTORY_READS_IN_FLIGHT} history requests are already in flight, wait for their replies`,
          id,
        ),
      );
    }
    conn.historyReads++;
    let page: HistoryPage;
    try {
      page = await source.history(channel, query);
    } catch (err) {
      this.#options.log?.error("channel history unavailable", { channel, err });
      return this.#sendError(
        conn,
        protocolError(
          ErrorCode.Internal,
          `Cannot ${what} ${channel}: history unavailable, retry`,
          id,
        ),
      );
    } finally {
      conn.historyReads--;
    }
    if (conn.closed) return;
    const budget = Math.min(MAX_HISTORY_PAGE_BYTES, this.limits.maxBufferedBytes / 2);
    const messages: HistoryEntry[] = [];
    let bytes = 0;
    for (let i = page.messages.length - 1; i >= 0; i--) {
      const m = page.messages[i];
      bytes += byteLength(JSON.stringify(m.data) ?? "null");
      if (bytes > budget && messages.length > 0) break;
      messages.push({
        offset: m.offset,
        epoch: m.epoch,
        ts: m.ts,
        data: m.data,
        ...(m.from !== undefined ? { from: m.from } : {}),
        ...(m.fromName !== undefined ? { fromName: m.fromName } : {}),
      });
    }
    const { epoch, offset } = page.position;
    this.#send(conn, {
      v: 1,
      type: "history",
      id,
      channel,
      data: { epoch, offset, messages: messages.reverse() },
    });
  }

  async #refresh(conn: Connection, id: string, token: string): Promise<void> {
    const auth = this.#options.auth;
    if (!auth) {
      return this.#sendError(
        conn,
        protocolError(ErrorCode.BadToken, "Cannot refresh: this server does not accept tokens", id),
      );
    }
    if (conn.principal.anonymous) {
      return this.#sendError(
        conn,
        protocolError(
          ErrorCode.BadToken,
          "Cannot refresh: anonymous connections must reconnect with credentials",
          id,
        ),
      );
    }
    const result = await auth.verifyAccessToken(token);
    if (conn.closed) return;
    if (!result.ok) {
      return this.#sendError(
        conn,
        protocolError(ErrorCode.BadToken, `Cannot refresh: ${result.message}`, id),
      );
    }
    if (result.principal.userId !== conn.principal.userId) {
      return this.disconnect(conn, CloseCode.Unauthorized, "refresh token belongs to another user");
    }
    conn.principal = result.principal;
    conn.expiryNoticeSent = false;
    this.#scheduleChecks(conn);
    this.#send(conn, {
      v: 1,
      type: "refreshed",
      id,
      data: { expiresAt: result.principal.expiresAt },
    });
  }

  // ---- outbound --------------------------------------------------------------------

  /**
   * Delivers a message to every local subscriber of `channel` (this isolate's; a message
   * from a bus arrives here already committed), encoded once per codec.
   * On a latest-value channel, subscribers with delta that were sent the previous
   * publication get a patch against it instead (also encoded once per codec), when it is
   * smaller. Returns the number of connections it was handed to (held-back latest values
   * count; with `coalesceLatest`, the subscribers a latest value will go to). On a
   * latest-value channel `data` is kept as the base of the next patch: do not change it
   * after delivering it (values from the bus are fresh copies).
   */
  deliver(channel: string, data: unknown, options: PublishOptions = {}): number {
    const subscribers = this.#subscribers.get(channel);
    if (!subscribers || subscribers.size === 0) return 0;
    const resolved = resolveChannel(this.#options.namespaces, channel);
    const mode = "error" in resolved ? "ordered" : resolved.policy.mode;
    if (mode === "latest" && this.#options.coalesceLatest) {
      // Newest wins: a value not yet fanned out is skipped for every subscriber.
      if (this.#dirty.has(channel)) this.metrics.conflations.inc();
      this.#dirty.set(channel, { data, options });
      this.#dirtyTimer ??= setTimeout(() => this.flushLatest(), 0);
      return subscribers.size;
    }
    return this.#publishNow(channel, data, options, mode);
  }

  /**
   * Fans out the coalesced latest-value publications now (`coalesceLatest`; the hub does
   * it on the next macrotask by itself).
   */
  flushLatest(): void {
    if (this.#dirtyTimer !== undefined) clearTimeout(this.#dirtyTimer);
    this.#dirtyTimer = undefined;
    const batch = [...this.#dirty];
    this.#dirty.clear();
    for (const [channel, { data, options }] of batch) {
      this.#publishNow(channel, data, options, "latest");
    }
  }

  #flushChannel(channel: string): void {
    const waiting = this.#dirty.get(channel);
    if (!waiting) return;
    this.#dirty.delete(channel);
    this.#publishNow(channel, waiting.data, waiting.options, "latest");
  }

  #publishNow(
    channel: string,
    data: unknown,
    options: PublishOptions,
    mode: "latest" | "ordered",
  ): number {
    if (!this.#subscribers.get(channel)?.size) return 0;
    const started = performance.now();
    const message: Extract<ServerMessage, { type: "message" }> = {
      v: 1,
      type: "message",
      channel,
      ts: options.ts ?? this.#now(),
      data,
      ...(options.from ? { from: options.from } : {}),
      ...(options.fromName ? { fromName: options.fromName } : {}),
      ...(options.offset !== undefined ? { offset: options.offset, epoch: options.epoch } : {}),
    };
    let publication: PublicationFrames | undefined;
    if (mode === "latest") {
      // Remembered as the base of the next publication's patch.
      const seq = ++this.#publicationSeq;
      publication = new PublicationFrames(message, seq, this.#latest.get(channel));
      this.#latest.set(channel, { seq, data, epoch: message.epoch, offset: message.offset });
    }
    const n = this.#fanout(channel, message, mode, options.offset, publication);
    this.metrics.broadcastSeconds.observe((performance.now() - started) / 1000);
    return n;
  }

  /** Sends a message to every connection of `userId`; returns how many. */
  sendToUser(userId: string, message: ServerMessage): number {
    const conns = this.#byUser.get(userId);
    if (!conns) return 0;
    return this.#out.deliverAll(conns, message);
  }

  /** Sends a message to one connection by id; false when there is no such connection. */
  sendToConnection(connectionId: string, message: ServerMessage): boolean {
    const conn = this.#connections.get(connectionId);
    if (!conn) return false;
    this.#send(conn, message);
    return true;
  }

  /** Sends a message to every connection for which `filter` is true; returns how many. */
  broadcast(message: ServerMessage, filter: (conn: Connection) => boolean = () => true): number {
    return this.#out.deliverAll([...this.#connections.values()].filter(filter), message);
  }

  #fanout(
    channel: string,
    message: ServerMessage,
    mode: "latest" | "ordered",
    offset?: number,
    publication?: PublicationFrames,
  ): number {
    const subscribers = this.#subscribers.get(channel);
    if (!subscribers) return 0;
    return this.#out.deliverAll(
      subscribers,
      message,
      mode === "latest" ? channel : undefined,
      { channel, offset },
      publication,
    );
  }

  #send(conn: Connection, message: ServerMessage): void {
    this.#out.send(conn, message);
  }

  #sendError(conn: Connection, error: ProtocolError): void {
    this.#errorsSent++;
    const { id, ...data } = error;
    this.#send(conn, { v: 1, type: "error", ...(id ? { id } : {}), data });
  }

  // ---- timers ----------------------------------------------------------------------

  /** Sends held-back latest values to sockets that have drained below half the bound. */
  flush(): void {
    this.#out.flush();
  }

  /**
   * Runs the timed checks of the connections that are due at `now`: pings those whose
   * ping is due, closes those that missed the pong deadline (4002), those idle for too
   * long (4501), and those whose credential expired (4003); warns connections whose
   * credential expires soon with `expiring`. Only due connections are visited (a timing
   * wheel, lib/gateway/timing_wheel.ts); `start()` calls this every
   * {@linkcode HEARTBEAT_TICK_MS}, tests call it with their own clock.
   */
  heartbeat(now = this.#now()): void {
    const ping = this.#pingFrames;
    const sent = { pings: 0, bytes: 0 };
    try {
      this.#due.advance(now, (conn) => this.#check(conn, now, ping, sent));
    } finally {
      this.#out.countOut("ping", sent.pings, sent.bytes);
    }
  }

  /** The timed checks of one due connection; schedules its next one unless it closed. */
  #check(
    conn: Connection,
    now: number,
    ping: FrameCache,
    sent: { pings: number; bytes: number },
  ): void {
    if (conn.closed) return;
    const limits = this.limits;
    if (conn.pingSentAt !== null && now - conn.pingSentAt > limits.pongTimeoutMs) {
      return this.disconnect(
        conn,
        CloseCode.HeartbeatTimeout,
        `no pong within ${limits.pongTimeoutMs} ms`,
      );
    }
    const expiresAt = conn.principal.expiresAt;
    if (expiresAt !== null) {
      if (now > expiresAt + EXPIRY_GRACE_MS) {
        return this.disconnect(
          conn,
          CloseCode.TokenExpired,
          "credential expired; reconnect with a new token",
        );
      }
      if (!conn.expiryNoticeSent && expiresAt - now <= EXPIRY_NOTICE_MS) {
        conn.expiryNoticeSent = true;
        this.#send(conn, { v: 1, type: "expiring", data: { expiresAt } });
      }
    }
    if (conn.channels.size === 0 && now - conn.lastActivity > limits.idleTimeoutMs) {
      return this.disconnect(
        conn,
        CloseCode.IdleTimeout,
        `idle for ${limits.idleTimeoutMs} ms with no subscriptions`,
      );
    }
    if (conn.pingSentAt === null && now >= conn.nextPingAt) {
      // Keep the cadence (counted from the connection's start) unless far behind.
      const next = conn.nextPingAt + limits.pingIntervalMs;
      conn.nextPingAt = next > now ? next : now + limits.pingIntervalMs;
      const enc = ping.for(conn.codec);
      if (this.#ping(conn, now, enc, false)) {
        sent.pings++;
        sent.bytes += enc.size;
      }
    }
    if (!conn.closed) this.#scheduleChecks(conn);
  }

  /**
   * Sends a ping and expects its pong (heartbeat and flow control share it): records when
   * and after how many bytes, so the pong tells what the client has read. Returns whether
   * it was written (a slow consumer is disconnected instead).
   */
  #ping(conn: Connection, now: number, enc: Encoded, count = true): boolean {
    conn.pingSentAt = now;
    if (this.#out.deliver(conn, enc) !== "written") return false;
    conn.pingBytes = conn.bytesOut;
    conn.pongCredit = true;
    if (count) {
      this.#out.countOut("ping", 1, enc.size);
      this.#scheduleChecks(conn);
    }
    return true;
  }

  /**
   * Schedules the connection's next timed check at the earliest of: its next ping (or,
   * with a ping outstanding, just after the pong deadline), its `expiring` notice, just
   * after its credential's grace period, and just after its idle deadline. Deadlines that
   * only move later (activity) need no reschedule: the check finds nothing to do and
   * schedules the next one.
   */
  #scheduleChecks(conn: Connection): void {
    const limits = this.limits;
    let due = conn.pingSentAt !== null
      ? conn.pingSentAt + limits.pongTimeoutMs + 1
      : conn.nextPingAt;
    const expiresAt = conn.principal.expiresAt;
    if (expiresAt !== null) {
      due = Math.min(due, expiresAt + EXPIRY_GRACE_MS + 1);
      if (!conn.expiryNoticeSent) due = Math.min(due, expiresAt - EXPIRY_NOTICE_MS);
    }
    due = Math.min(due, conn.lastActivity + limits.idleTimeoutMs + 1);
    this.#due.schedule(conn, due);
  }

  // ---- introspection ---------------------------------------------------------------

  /** Current counters. */
  stats(): HubStats {
    let subscriptions = 0;
    for (const set of this.#subscribers.values()) subscriptions += set.size;
    return {
      connections: this.#connections.size,
      anonymous: this.#anonymous,
      users: this.#byUser.size,
      channels: this.#subscribers.size,
      subscriptions,
      messagesIn: this.#totals.messagesIn,
      messagesOut: this.#out.totals.messagesOut,
      bytesIn: this.#totals.bytesIn,
      bytesOut: this.#out.totals.bytesOut,
      errorsSent: this.#errorsSent,
      behind: this.#out.behind,
    };
  }

  /** Median and 99th percentile of the connections' last heartbeat RTT, ms (null when none). */
  rttSummary(): { p50: number | null; p99: number | null; measured: number } {
    const rtts = [...this.#connections.values()].map((c) => c.rttMs).filter((r): r is number =>
      r !== null
    )
      .sort((a, b) => a - b);
    const at = (q: number) =>
      rtts.length ? rtts[Math.min(rtts.length - 1, Math.floor(q * rtts.length))] : null;
    return { p50: at(0.5), p99: at(0.99), measured: rtts.length };
  }

  #index(conn: Connection): void {
    const userId = conn.principal.userId;
    let set = this.#byUser.get(userId);
    if (!set) this.#byUser.set(userId, set = new Set());
    set.add(conn);
  }

  #unindex(conn: Connection): void {
    const set = this.#byUser.get(conn.principal.userId);
    set?.delete(conn);
    if (set && set.size === 0) this.#byUser.delete(conn.principal.userId);
  }
}

/** Codec lookup for adapters. */
export { CODECS };
