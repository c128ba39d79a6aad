/**
 * What the venue adapters share: the connection life cycle (connect through the injected
 * `connect`, subscribe acknowledgement deadline, reconnect with full-jitter exponential
 * backoff, make-before-break rotation), the two liveness timers (transport silent →
 * reconnect; one symbol quiet while others flow → that symbol stale), the outbound
 * throttle, inbound bounds (64 KiB, JSON, then the venue's zod schemas), trade
 * de-duplication, per-symbol fresh/stale state, and health.
 *
 * A venue module supplies only its protocol ({@linkcode VenueProtocol}): the URL, what to
 * send on open, how to read one message, how to resubscribe some symbols.
 */
import {
  DEFAULT_VENUE_TIMING,
  type VenueEvent,
  type VenueFeed,
  type VenueFeedOptions,
  type VenueHealth,
  type VenueSocket,
  type VenueSymbolState,
  type VenueTicker,
  type VenueTiming,
  type VenueTrade,
} from "./types.ts";
import { mapSymbols, type SymbolMap, type VenueId, type VenueSymbol } from "./symbols.ts";

/** Inbound messages larger than this are dropped and counted as malformed. */
export const MAX_MESSAGE_BYTES = 65_536;
/** Malformed messages (and other repeated warnings) are logged at most this often. */
export const WARN_INTERVAL_MS = 60_000;
/** Trade ids remembered per symbol for de-duplication. */
export const RECENT_TRADE_IDS = 1_024;
/** Outbound messages waiting for the throttle, per connection. */
export const MAX_OUTBOX = 256;
/** How long {@linkcode VenueFeed.stop} waits for sockets to finish closing. */
const STOP_GRACE_MS = 2_000;

/**
 * Full-jitter backoff: a delay drawn uniformly from [0, min(maxMs, baseMs · 2^attempt)).
 * `random` must return a number in [0, 1); out-of-range values are clamped.
 */
export function backoffDelay(
  attempt: number,
  timing: Pick<VenueTiming, "backoffBaseMs" | "backoffMaxMs">,
  random: () => number,
): number {
  const cap = Math.min(timing.backoffMaxMs, timing.backoffBaseMs * 2 ** Math.min(attempt, 30));
  const r = Math.min(Math.max(random(), 0), 1 - Number.EPSILON);
  return Math.floor(r * cap);
}

/**
 * A sliding-window throttle: at most `perSecond` writes in any 1 000 ms, the rest queued
 * (at most `maxQueue`; `push` returns false when full). Uses its own monotonic clock, not
 * the feed's injected one, since the venue's limit is in real time.
 */
export class SendThrottle {
  readonly #perSecond: number;
  readonly #write: (text: string) => void;
  readonly #clock: () => number;
  readonly #maxQueue: number;
  #queue: string[] = [];
  #sent: number[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(
    perSecond: number,
    write: (text: string) => void,
    clock: () => number = () => performance.now(),
    maxQueue: number = MAX_OUTBOX,
  ) {
    if (!(perSecond >= 1)) throw new Error("Cannot create throttle: perSecond must be ≥ 1");
    this.#perSecond = Math.floor(perSecond);
    this.#write = write;
    this.#clock = clock;
    this.#maxQueue = maxQueue;
  }

  /** Messages waiting. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Queues `text`; sends at once when the window allows. False when stopped or full. */
  push(text: string): boolean {
    if (this.#stopped || this.#queue.length >= this.#maxQueue) return false;
    this.#queue.push(text);
    this.#flush();
    return true;
  }

  /** Drops what is queued and cancels the timer. */
  stop(): void {
    this.#stopped = true;
    this.#queue = [];
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #flush(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    const t = this.#clock();
    while (this.#queue.length > 0) {
      while (this.#sent.length > 0 && t - this.#sent[0] >= 1_000) this.#sent.shift();
      if (this.#sent.length >= this.#perSecond) break;
      this.#sent.push(t);
      this.#write(this.#queue.shift()!);
    }
    if (this.#queue.length > 0) {
      const wait = Math.max(1, Math.ceil(this.#sent[0] + 1_000 - t));
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#flush();
      }, wait);
    }
  }
}

/** One socket of a feed, as a protocol sees it. */
export interface FeedConnection {
  /** Increases with every socket the feed opens (1, 2, …). */
  readonly id: number;
  /** Serialises `message` as JSON and sends it through the throttle. */
  send(message: unknown): void;
}

/** A ticker as a protocol reports it; the core adds venue, receive time and proxy flag. */
export type TickerFields = Omit<
  VenueTicker,
  "kind" | "venue" | "symbol" | "receivedAt" | "usdProxy"
>;
/** A trade as a protocol reports it. */
export type TradeFields = Omit<VenueTrade, "kind" | "venue" | "symbol" | "receivedAt" | "usdProxy">;

/** What the core offers a protocol. */
export interface FeedContext {
  readonly venue: VenueId;
  readonly symbols: SymbolMap;
  /** The feed's clock (injected `now`). */
  now(): number;
  /**
   * Emits a ticker for `entry`. `snapshot`: it is a full state (a subscription's snapshot,
   * Binance's `@ticker`), which makes the symbol fresh again even after a gap.
   */
  ticker(entry: VenueSymbol, fields: TickerFields, snapshot?: boolean): void;
  /** Emits a trade unless its id was seen recently for `entry`; returns whether emitted. */
  trade(entry: VenueSymbol, fields: TradeFields): boolean;
  /**
   * The venue's sequence skipped: counts a gap, marks `entries` stale (reason `gap`) and
   * asks the protocol to resubscribe those not already waiting for a snapshot.
   */
  gap(conn: FeedConnection, entries: readonly VenueSymbol[], detail: string): void;
  /** The venue acknowledged `conn`'s subscription: the transport is up. */
  ack(conn: FeedConnection): void;
  /** Opens a second connection while the current one keeps flowing (make-before-break). */
  rotate(reason: string): void;
  /** `conn` (the new connection of a rotation) takes over; the others are closed. */
  promote(conn: FeedConnection): void;
  /** Whether `conn` is the feed's main connection (not the one being made). */
  isPrimary(conn: FeedConnection): boolean;
  /** The feed's main connection, if any. */
  primary(): FeedConnection | undefined;
  /** Open (or opening) connections: 2 during a rotation. */
  connectionCount(): number;
  /** A warning, logged at most once a minute per `key`. */
  warn(key: string, msg: string, fields?: Record<string, unknown>): void;
}

/** A venue's wire protocol, driven by the core. */
export interface VenueProtocol {
  /** Outbound messages per second per connection (under the venue's limit). */
  readonly sendsPerSecond: number;
  /** The URL to open (recomputed for every connection). */
  url(): string;
  /** The socket opened: send the subscriptions. */
  onOpen(conn: FeedConnection): void;
  /**
   * One parsed JSON message. Returns `undefined` when accepted (including messages the
   * venue documents as ignorable), or the reason it is malformed.
   */
  onMessage(conn: FeedConnection, message: unknown): string | undefined;
  /** `conn` is gone (already removed from the feed's connections). */
  onClose(conn: FeedConnection): void;
  /** Ask the venue again for `entries` (to receive a fresh snapshot). */
  resubscribe(conn: FeedConnection, entries: readonly VenueSymbol[]): void;
  /** Optional application-level ping, sent once when the transport is quiet for silentMs/2. */
  keepalive?(conn: FeedConnection): void;
}

/** What {@linkcode createFeed} needs besides the adapter options. */
export interface FeedSpec {
  venue: VenueId;
  options: VenueFeedOptions;
  /** Rotate (make-before-break) once a connection is this old, ms. Default: never. */
  rotateAfterMs?: number;
  protocol: (ctx: FeedContext) => VenueProtocol;
}

type StaleReason = VenueSymbolState["reason"];

interface SymbolState {
  entry: VenueSymbol;
  fresh: boolean;
  reason: StaleReason;
  lastDataAt: number | null;
  /** Since when a resubscription waits for its snapshot; null when none. */
  awaitingSince: number | null;
  recent: Set<string>;
}

interface Conn extends FeedConnection {
  socket: VenueSocket | null;
  createdAt: number;
  ackedAt: number | null;
  lastMessageAt: number | null;
  keepaliveSent: boolean;
  closed: boolean;
  throttle: SendThrottle;
  socketClosed: Promise<void>;
}

function defaultConnect(url: string): VenueSocket {
  return new WebSocket(url);
}

const defaultLog = {
  warn(msg: string, fields?: Record<string, unknown>) {
    console.error(JSON.stringify({ level: "warn", msg, ...fields }));
  },
};

const encoder = new TextEncoder();

function tooLarge(data: string): boolean {
  if (data.length > MAX_MESSAGE_BYTES) return true;
  // A UTF-16 code unit is at most 3 UTF-8 bytes: only long strings need counting.
  return data.length * 3 > MAX_MESSAGE_BYTES && encoder.encode(data).length > MAX_MESSAGE_BYTES;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Builds a {@linkcode VenueFeed} around `spec.protocol`. Throws for an unknown symbol. */
export function createFeed(spec: FeedSpec): VenueFeed {
  const { venue, options } = spec;
  const timing: VenueTiming = { ...DEFAULT_VENUE_TIMING, ...options.timing };
  const now = options.now ?? Date.now;
  const connect = options.connect ?? defaultConnect;
  const random = options.random ?? Math.random;
  const log = options.log ?? defaultLog;
  const map = mapSymbols(venue, options.symbols);
  const states = new Map<string, SymbolState>();
  for (const entry of map.symbols) {
    states.set(entry.canonical, {
      entry,
      fresh: false,
      reason: "disconnected",
      lastDataAt: null,
      awaitingSince: null,
      recent: new Set(),
    });
  }

  const conns: Conn[] = [];
  let connSeq = 0;
  let started = false;
  let stopped = false;
  let up = false;
  let everUp = false;
  let attempt = 0;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let watchdog: ReturnType<typeof setInterval> | undefined;
  let lastRotateAt = -Infinity;
  const counters = { reconnects: 0, gaps: 0, malformed: 0, messages: 0 };
  let lastMessageAt: number | null = null;
  const warnedAt = new Map<string, { at: number; suppressed: number }>();

  function warn(key: string, msg: string, fields: Record<string, unknown> = {}): void {
    const t = now();
    const seen = warnedAt.get(key);
    if (seen && t - seen.at < WARN_INTERVAL_MS) {
      seen.suppressed++;
      return;
    }
    const suppressed = seen?.suppressed ?? 0;
    warnedAt.set(key, { at: t, suppressed: 0 });
    try {
      log.warn(msg, { venue, ...fields, ...(suppressed > 0 ? { suppressed } : {}) });
    } catch {
      // A logger that throws must not stop the feed.
    }
  }

  function emit(event: VenueEvent): void {
    try {
      options.onEvent(event);
    } catch (err) {
      warn("consumer", "Venue event consumer threw", { error: errorText(err) });
    }
  }

  function stateOf(entry: VenueSymbol): SymbolState {
    const state = states.get(entry.canonical);
    if (!state) throw new Error(`Cannot find symbol ${entry.canonical} on ${venue}`);
    return state;
  }

  function setStale(state: SymbolState, reason: StaleReason): void {
    state.reason = reason;
    if (!state.fresh) return;
    state.fresh = false;
    emit({
      kind: "symbol",
      venue,
      symbol: state.entry.canonical,
      state: "stale",
      reason,
      at: now(),
    });
  }

  function setFresh(state: SymbolState, reason: StaleReason): void {
    if (state.fresh) return;
    state.fresh = true;
    emit({
      kind: "symbol",
      venue,
      symbol: state.entry.canonical,
      state: "fresh",
      reason,
      at: now(),
    });
  }

  function touched(state: SymbolState): void {
    state.lastDataAt = now();
    // Data on a live subscription makes a symbol fresh: `resumed` when it was only quiet,
    // `resubscribed` after a (re)connect. After a gap only a snapshot does (see snapshot).
    if (!state.fresh && state.awaitingSince === null) {
      setFresh(state, state.reason === "quiet" ? "resumed" : "resubscribed");
    }
  }

  const ctx: FeedContext = {
    venue,
    symbols: map,
    now,
    ticker(entry, fields, snapshot = false) {
      const state = stateOf(entry);
      emit({
        kind: "ticker",
        venue,
        symbol: entry.canonical,
        ...fields,
        receivedAt: now(),
        usdProxy: entry.usdProxy,
      });
      if (snapshot) {
        state.awaitingSince = null;
        state.lastDataAt = now();
        setFresh(state, "snapshot");
      } else {
        touched(state);
      }
    },
    trade(entry, fields) {
      const state = stateOf(entry);
      if (state.recent.has(fields.tradeId)) return false;
      state.recent.add(fields.tradeId);
      if (state.recent.size > RECENT_TRADE_IDS) {
        state.recent.delete(state.recent.values().next().value!);
      }
      emit({
        kind: "trade",
        venue,
        symbol: entry.canonical,
        ...fields,
        receivedAt: now(),
        usdProxy: entry.usdProxy,
      });
      touched(state);
      return true;
    },
    gap(conn, entries, detail) {
      counters.gaps++;
      warn("gap", "Venue sequence gap: resubscribing", {
        detail,
        symbols: entries.map((e) => e.canonical),
        gaps: counters.gaps,
      });
      const resubscribe: VenueSymbol[] = [];
      for (const entry of entries) {
        const state = stateOf(entry);
        if (state.awaitingSince === null) {
          state.awaitingSince = now();
          resubscribe.push(entry);
        }
        setStale(state, "gap");
      }
      const live = conns.find((c) => c.id === conn.id);
      if (resubscribe.length > 0 && live && !live.closed) {
        callProtocol(() => protocol.resubscribe(live, resubscribe));
      }
    },
    ack(conn) {
      const live = conns.find((c) => c.id === conn.id);
      if (!live || live.ackedAt !== null) return;
      live.ackedAt = now();
      if (up) return;
      up = true;
      if (everUp) counters.reconnects++;
      everUp = true;
      emit({ kind: "connection", venue, connected: true, at: now() });
    },
    rotate(reason) {
      if (stopped || conns.length !== 1 || conns[0].ackedAt === null) return;
      lastRotateAt = now();
      warn(`rotate:${reason}`, "Rotating venue connection (make-before-break)", { reason });
      openConnection();
    },
    promote(conn) {
      const live = conns.find((c) => c.id === conn.id);
      if (!live) return;
      for (const other of [...conns]) {
        if (other !== live) drop(other, "rotated");
      }
    },
    isPrimary: (conn) => conns[0]?.id === conn.id,
    primary: () => conns[0],
    connectionCount: () => conns.length,
    warn,
  };

  const protocol = spec.protocol(ctx);

  function callProtocol(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      warn("protocol", "Venue protocol handler threw", { error: errorText(err) });
    }
  }

  function malformed(reason: string, sample: string): void {
    counters.malformed++;
    warn("malformed", "Dropped a malformed venue message", {
      reason,
      malformed: counters.malformed,
      sample: sample.slice(0, 160),
    });
  }

  function receive(conn: Conn, data: unknown): void {
    if (typeof data !== "string") return malformed("binary frame", "");
    if (tooLarge(data)) return malformed(`message over ${MAX_MESSAGE_BYTES} bytes`, data);
    let value: unknown;
    try {
      value = JSON.parse(data);
    } catch {
      return malformed("invalid JSON", data);
    }
    let reason: string | undefined;
    try {
      reason = protocol.onMessage(conn, value);
    } catch (err) {
      reason = `handler error: ${errorText(err)}`;
    }
    if (reason !== undefined) return malformed(reason, data);
    counters.messages++;
    conn.lastMessageAt = lastMessageAt = now();
    conn.keepaliveSent = false;
  }

  function openConnection(): void {
    const id = ++connSeq;
    const closed = Promise.withResolvers<void>();
    const conn: Conn = {
      id,
      socket: null,
      createdAt: now(),
      ackedAt: null,
      lastMessageAt: null,
      keepaliveSent: false,
      closed: false,
      socketClosed: closed.promise,
      throttle: new SendThrottle(protocol.sendsPerSecond, (text) => {
        try {
          conn.socket?.send(text);
        } catch (err) {
          warn("send", "Cannot send to venue", { error: errorText(err) });
        }
      }),
      send(message) {
        if (conn.closed) return;
        if (!conn.throttle.push(JSON.stringify(message))) {
          warn("outbox", "Venue outbound queue full: message dropped", { max: MAX_OUTBOX });
        }
      },
    };
    conns.push(conn);
    let socket: VenueSocket;
    try {
      socket = connect(protocol.url());
    } catch (err) {
      closed.resolve();
      drop(conn, `cannot connect: ${errorText(err)}`);
      return;
    }
    conn.socket = socket;
    socket.onopen = () => {
      if (!conn.closed) callProtocol(() => protocol.onOpen(conn));
    };
    socket.onmessage = (ev: MessageEvent) => {
      if (!conn.closed) receive(conn, ev.data);
    };
    socket.onerror = () => {
      // A close event follows; it carries what there is to know.
    };
    socket.onclose = (ev: CloseEvent) => {
      closed.resolve();
      if (!conn.closed) {
        drop(conn, `closed by venue (${ev.code}${ev.reason ? ` ${ev.reason}` : ""})`);
      }
    };
  }

  /** Closes `conn` (if not yet) and handles what its loss means for the feed. */
  function drop(conn: Conn, reason: string): void {
    if (conn.closed) return;
    conn.closed = true;
    conn.throttle.stop();
    const index = conns.indexOf(conn);
    if (index >= 0) conns.splice(index, 1);
    try {
      conn.socket?.close(1000, reason.slice(0, 100));
    } catch {
      // Already closing.
    }
    callProtocol(() => protocol.onClose(conn));
    // A connection that stayed up a while resets the backoff.
    if (conn.ackedAt !== null && now() - conn.ackedAt >= timing.silentMs) attempt = 0;
    if (stopped || conns.length > 0) return;
    if (up) {
      up = false;
      emit({ kind: "connection", venue, connected: false, reason, at: now() });
    }
    for (const state of states.values()) {
      state.awaitingSince = null;
      setStale(state, "disconnected");
    }
    scheduleReconnect();
  }

  function scheduleReconnect(): void {
    if (stopped || reconnectTimer !== undefined) return;
    const delay = backoffDelay(attempt, timing, random);
    attempt++;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      if (!stopped && conns.length === 0) openConnection();
    }, delay);
  }

  function tick(): void {
    const t = now();
    for (const conn of [...conns]) {
      if (conn.ackedAt === null && t - conn.createdAt > timing.connectTimeoutMs) {
        drop(conn, `no subscription acknowledgement within ${timing.connectTimeoutMs} ms`);
      }
    }
    const primary = conns[0];
    if (primary && primary.ackedAt !== null) {
      const last = primary.lastMessageAt ?? primary.ackedAt;
      if (t - last > timing.silentMs) {
        drop(primary, `silent for ${t - last} ms`);
      } else if (protocol.keepalive && !primary.keepaliveSent && t - last > timing.silentMs / 2) {
        primary.keepaliveSent = true;
        callProtocol(() => protocol.keepalive!(primary));
      }
    }
    if (conns.length > 1) {
      // The new connection of a rotation that never declared itself ready takes over anyway.
      const next = conns[conns.length - 1];
      if (next.ackedAt !== null && t - next.ackedAt > timing.connectTimeoutMs) ctx.promote(next);
    }
    const only = conns.length === 1 ? conns[0] : undefined;
    if (
      spec.rotateAfterMs !== undefined && only && only.ackedAt !== null &&
      t - only.ackedAt > spec.rotateAfterMs && t - lastRotateAt > timing.connectTimeoutMs
    ) {
      ctx.rotate("scheduled");
    }
    if (!up) return;
    const all = [...states.values()];
    const flowing = all.some((s) =>
      s.lastDataAt !== null && t - s.lastDataAt <= timing.symbolQuietMs
    );
    if (flowing) {
      for (const state of all) {
        if (
          state.fresh && (state.lastDataAt === null || t - state.lastDataAt > timing.symbolQuietMs)
        ) {
          setStale(state, "quiet");
        }
      }
    }
    const retry = all.filter((s) =>
      s.awaitingSince !== null && t - s.awaitingSince > timing.connectTimeoutMs
    );
    const main = conns[0];
    if (retry.length > 0 && main && main.ackedAt !== null) {
      for (const state of retry) state.awaitingSince = t;
      callProtocol(() => protocol.resubscribe(main, retry.map((s) => s.entry)));
    }
  }

  return {
    venue,
    start() {
      if (started || stopped) return;
      started = true;
      if (map.symbols.length === 0) {
        warn("empty", "Venue feed has no symbol this venue lists: not connecting", {
          unlisted: map.unlisted,
        });
        return;
      }
      const period = Math.min(timing.silentMs, timing.symbolQuietMs, timing.connectTimeoutMs) / 4;
      watchdog = setInterval(tick, Math.min(1_000, Math.max(10, Math.floor(period))));
      openConnection();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (watchdog !== undefined) clearInterval(watchdog);
      if (reconnectTimer !== undefined) clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      const closing = conns.map((c) => c.socketClosed);
      for (const conn of [...conns]) drop(conn, "stopped");
      if (up) {
        up = false;
        emit({ kind: "connection", venue, connected: false, reason: "stopped", at: now() });
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(closing),
        new Promise<void>((resolve) => timer = setTimeout(resolve, STOP_GRACE_MS)),
      ]);
      clearTimeout(timer);
    },
    health(): VenueHealth {
      const all = [...states.values()];
      return {
        venue,
        connected: up,
        lastMessageAt,
        reconnects: counters.reconnects,
        gaps: counters.gaps,
        malformed: counters.malformed,
        messages: counters.messages,
        symbols: all.map((s) => s.entry.canonical),
        staleSymbols: all.filter((s) => !s.fresh).map((s) => s.entry.canonical),
        usdProxy: all.some((s) => s.entry.usdProxy),
      };
    },
  };
}
