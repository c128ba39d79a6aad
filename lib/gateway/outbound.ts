/**
 * The outbound path of one hub: writes frames to connections under the per-connection
 * byte bound. A socket more than `maxBufferedBytes` behind gets only the newest message
 * per latest-value channel (flushed once it drains below half the bound); on ordered
 * channels, and for replies, it is disconnected as a slow consumer (4001). Metrics are
 * counted once per broadcast, not per delivery.
 *
 * Flow control on latest-value channels: `bufferedAmount` counts only what the runtime has
 * not yet handed to the kernel, and the kernel's socket buffers hide megabytes — seconds of
 * prices — for a client that reads slowly (bench/slow_reader.ts: `bufferedAmount` stays 0
 * while 2.5 MB wait on loopback, on `Deno.upgradeWebSocket` and on the guard's socket
 * alike). So a connection receiving latest values is pinged every `flow.pingMs` (sooner
 * when half the window is unacknowledged); the pong tells which bytes the client has read.
 * While a ping has been outstanding for more than `flow.lagMs`, or more than the window
 * (`flow.windowBytes`, or `flow.windowMs` of the connection's data rate) is unacknowledged,
 * the client is behind — both it takes while the hub's own loop is `flow.busyLagMs` or more
 * late (a busy server reads every pong late, some very late): latest values are held (newest
 * per channel) and written when the pong arrives. Ordered channels are not held (every
 * message, or 4001 as above).
 *
 * Backlog: a batching connection's transport tells what earlier tasks queued that the socket
 * has not yet written (`Transport.backlog`, lib/gateway/batching.ts). While it is above
 * `flow.backlogBytes`, latest values are held the same way and released by a check every
 * `flow.drainMs`: a server too busy to write its frames at once sends the newest values once
 * it has, not every value late.
 *
 * Delta: a connection subscribed with delta is sent a latest-value publication as a patch
 * only when it was sent the publication just before (`Connection.deltas`); anything held
 * back (backpressure, recovery) is held and later sent in full.
 */
import type { Logger } from "../app/log.ts";
import { CloseCode } from "../protocol/codes.ts";
import type { ServerMessage } from "../protocol/messages.ts";
import type { Connection, HeldFrame } from "./connection.ts";
import { type Encoded, encoded, FrameCache } from "./frames.ts";
import type { GatewayLimits } from "./limits.ts";
import type { GatewayMetrics } from "./metrics.ts";
import type { PublicationFrames } from "./publication.ts";

/** Live messages held for one connection while its subscription is being recovered. */
export const MAX_RECOVERY_BUFFER = 1_000;

/** What happened to one frame handed to {@linkcode Outbound.deliver}. */
export type Delivery = "written" | "held" | "dropped";

/** Flow control of latest-value channels (see the module doc). */
export interface FlowOptions {
  /** A ping outstanding longer than this means the client is behind, ms. */
  lagMs: number;
  /**
   * More unacknowledged bytes than this — or than `windowMs` of the connection's own data
   * rate, whichever is larger — means the client is behind.
   */
  windowBytes: number;
  /** The window in time of the connection's data rate, ms (see `windowBytes`). */
  windowMs: number;
  /**
   * A flow ping goes after latest values when none is outstanding and either this long
   * passed since the last one, ms, or half `windowBytes` are unacknowledged.
   */
  pingMs: number;
  /**
   * Latest values are held while the socket has more than this many bytes of earlier tasks
   * not yet written to the network (`Transport.backlog`; batching connections have it): a
   * server too busy to write what it already queued sends the newest values once it has,
   * instead of every value late.
   */
  backlogBytes: number;
  /** While values are held for a backlog, the sockets are checked this often, ms. */
  drainMs: number;
  /**
   * The byte window counts only while the hub reads pongs less than this late (its event
   * loop's delay or the connections' average round trip, `loopLagMs`), ms: a server behind on
   * its own loop reads every pong late, and every client would look behind by bytes.
   */
  busyLagMs: number;
}

/**
 * The defaults: a client more than 16 KiB behind (about 5 s of a 10-symbol price board, and
 * far less than the kernel's buffers hide), or whose pong is more than a second late beyond
 * its network round trip and the hub's own delay, gets only newest values. The byte window
 * is the main signal: a server under load reads every pong late, and timing alone took it
 * for slow clients (docs/PERFORMANCE.md, "Fresh prices under overload"). Probes cost a ping
 * and a pong: at most one a second per connection receiving latest values, more only for one
 * receiving more than 8 KiB (half the window) between two probes.
 */
export const DEFAULT_FLOW: Readonly<FlowOptions> = {
  lagMs: 1_000,
  windowBytes: 16_384,
  windowMs: 2_000,
  pingMs: 1_000,
  backlogBytes: 0,
  drainMs: 10,
  busyLagMs: 25,
};

/** Dependencies of {@linkcode Outbound}. */
export interface OutboundDeps {
  limits: Readonly<GatewayLimits>;
  metrics: GatewayMetrics;
  log?: Logger;
  /** Flow control of latest-value channels; none without (e.g. {@linkcode DEFAULT_FLOW}). */
  flow?: FlowOptions;
  /** Clock, ms. */
  now(): number;
  /**
   * How late the hub reads pongs now, ms (its event-loop delay, or the connections' average
   * round trip, whichever is larger): a busy server is not a slow client.
   */
  loopLagMs?(): number;
  /** Closes a connection from the server side (the hub's `disconnect`). */
  disconnect(conn: Connection, code: number, reason: string): void;
  /** Sends a ping now (the hub's, which expects the pong). */
  ping(conn: Connection): void;
  /** Values were held for a socket's backlog: call `flush()` in `flow.drainMs`. */
  drainSoon?(ms: number): void;
}

/** Writes, conflates and flushes frames for the connections of one hub. */
export class Outbound {
  readonly totals = { messagesOut: 0, bytesOut: 0 };
  #deps: OutboundDeps;
  #flow: FlowOptions | undefined;
  #behind = new Set<Connection>();

  constructor(deps: OutboundDeps) {
    this.#deps = deps;
    this.#flow = deps.flow;
  }

  /**
   * Whether `conn` is behind by the pong of its outstanding ping: it has not answered for
   * longer than `lagMs` plus its smallest round trip (a distant client is not "behind" for
   * its network's delay) plus how late the hub reads pongs now (a busy server reads every
   * pong late: `loopLagMs`), or more than `windowBytes` are unacknowledged.
   */
  lagging(conn: Connection, now: number): boolean {
    if (conn.pingSentAt === null || !this.#flow) return false;
    const network = conn.minRttMs === Infinity ? 0 : conn.minRttMs;
    const ours = this.#deps.loopLagMs?.() ?? 0;
    const late = now - conn.pingSentAt > this.#flow.lagMs + network + ours;
    const unread = conn.bytesOut - conn.ackedBytes > this.#window(conn);
    // A busy server reads every pong late, some very late: then it takes both signals to
    // call a client behind.
    return ours < this.#flow.busyLagMs ? late || unread : late && unread;
  }

  /** Whether `conn`'s socket has more of earlier tasks unwritten than `flow.backlogBytes`. */
  backlogged(conn: Connection): boolean {
    const backlog = conn.transport.backlog;
    return backlog !== undefined && this.#flow !== undefined &&
      backlog > this.#flow.backlogBytes;
  }

  /** Connections with latest values held back. */
  get behind(): number {
    return this.#behind.size;
  }

  /** Forgets a closed connection. */
  forget(conn: Connection): void {
    this.#behind.delete(conn);
  }

  /** Encodes and delivers one message to one connection. */
  send(conn: Connection, message: ServerMessage): void {
    const enc = encoded(conn.codec.encode(message));
    if (this.deliver(conn, enc) === "written") this.countOut(message.type, 1, enc.size);
  }

  /**
   * Delivers one message to many connections, encoded once per codec. `of` names the
   * channel (and offset) of a published message: connections recovering that channel
   * hold it for after their replay. Returns how many connections it was handed to.
   */
  deliverAll(
    conns: Iterable<Connection>,
    message: ServerMessage,
    latestChannel?: string,
    of?: { channel: string; offset?: number },
    publication?: PublicationFrames,
  ): number {
    const cache = publication?.full ?? new FrameCache(message);
    let handed = 0;
    let written = 0;
    let bytes = 0;
    let patches = 0;
    const now = latestChannel !== undefined ? this.#deps.now() : 0;
    // Copy: a slow-consumer disconnect removes from the set while we iterate.
    for (const conn of [...conns]) {
      const enc = cache.for(conn.codec);
      const held = of && conn.recovering.size > 0 ? conn.recovering.get(of.channel) : undefined;
      if (held) {
        // The subscription is being recovered: keep it for after the replay (bounded).
        if (held.length >= MAX_RECOVERY_BUFFER) {
          this.#deps.disconnect(
            conn,
            CloseCode.SlowConsumer,
            "slow consumer: too many messages during recovery",
          );
          continue;
        }
        held.push({ enc: publication ? withSeq(enc, publication.seq) : enc, offset: of!.offset });
        handed++;
        continue;
      }
      let frame = enc;
      if (publication && latestChannel !== undefined && publication.baseSeq !== null) {
        // The patch only to a connection that was sent the publication it patches.
        if (conn.deltas.get(latestChannel) === publication.baseSeq) {
          frame = publication.deltaFor(conn.codec) ?? enc;
        }
      }
      const result = this.deliver(
        conn,
        frame,
        latestChannel,
        publication && { full: enc, seq: publication.seq },
        now,
      );
      if (result === "dropped") continue;
      handed++;
      if (result === "written") {
        written++;
        bytes += frame.size;
        if (frame !== enc) patches++;
      }
    }
    this.countOut(message.type, written, bytes);
    if (patches > 0) this.#deps.metrics.deltaMessages.inc({}, patches);
    return handed;
  }

  /**
   * Writes a frame unless the socket is behind. Then a latest-value frame replaces any
   * held-back frame of its channel (conflation), and anything else disconnects the slow
   * consumer with 4001.
   */
  deliver(
    conn: Connection,
    enc: Encoded,
    latestChannel?: string,
    publication?: { full: Encoded; seq: number },
    now = latestChannel !== undefined ? this.#deps.now() : 0,
  ): Delivery {
    if (conn.closed) return "dropped";
    const { limits, metrics } = this.#deps;
    const over = conn.transport.bufferedAmount > limits.maxBufferedBytes;
    const backlogged = latestChannel !== undefined && this.backlogged(conn);
    if (latestChannel !== undefined && (over || backlogged || this.lagging(conn, now))) {
      if (backlogged) this.#deps.drainSoon?.(this.#flow!.drainMs);
      if (conn.pending.has(latestChannel)) metrics.conflations.inc();
      // Held back: sent later in full (the client may never get the value a patch needs).
      conn.pendingMap().set(
        latestChannel,
        publication ? withSeq(publication.full, publication.seq) : enc,
      );
      if (conn.deltas.has(latestChannel)) conn.deltaMap().set(latestChannel, 0);
      this.#behind.add(conn);
      return "held";
    }
    if (over) {
      metrics.slowConsumerCloses.inc();
      this.#deps.log?.info("slow consumer disconnected", {
        conn: conn.id,
        buffered: conn.transport.bufferedAmount,
      });
      this.#deps.disconnect(
        conn,
        CloseCode.SlowConsumer,
        `slow consumer: more than ${limits.maxBufferedBytes} bytes waiting`,
      );
      return "dropped";
    }
    if (latestChannel !== undefined) {
      if (conn.pending.size > 0) conn.pendingMap().delete(latestChannel);
      if (publication && conn.deltas.has(latestChannel)) {
        conn.deltaMap().set(latestChannel, publication.seq);
      }
    }
    this.write(conn, enc);
    if (latestChannel !== undefined) this.#probe(conn, now);
    return "written";
  }

  /**
   * Sends a flow ping after latest values unless one is outstanding, or one was sent less
   * than `pingMs` ago and less than half the window is unacknowledged.
   */
  #probe(conn: Connection, now: number): void {
    if (!this.#flow || conn.pingSentAt !== null) return;
    const since = now - conn.lastFlowPingAt;
    if (since < this.#flow.pingMs && conn.bytesOut - conn.ackedBytes < this.#window(conn) / 2) {
      return;
    }
    // The data rate over the interval just ended (at least 100 ms long) sizes the window.
    if (since >= 100 && since !== Infinity) {
      conn.flowRate = (conn.bytesOut - conn.flowPingBytes) / since;
    }
    conn.flowPingBytes = conn.bytesOut;
    conn.lastFlowPingAt = now;
    this.#deps.ping(conn);
  }

  /**
   * The byte window of `conn`: `windowBytes`, or `windowMs` of its data rate when larger —
   * so a connection receiving much is probed about once a second, not every 8 KiB, and
   * counts as behind once about two seconds of its data wait unread.
   */
  #window(conn: Connection): number {
    const flow = this.#flow!;
    return Math.max(flow.windowBytes, conn.flowRate * flow.windowMs);
  }

  /**
   * The client answered a ping (the hub updated `ackedBytes`): sends its held-back latest
   * values at once, unless the socket's own buffer is still above half the bound.
   */
  acknowledged(conn: Connection): void {
    if (conn.pending.size === 0 || conn.closed) return;
    if (conn.transport.bufferedAmount > this.#deps.limits.maxBufferedBytes / 2) return;
    if (this.backlogged(conn)) return this.#deps.drainSoon?.(this.#flow!.drainMs);
    this.#behind.delete(conn);
    this.#release(conn, this.#deps.now());
  }

  /** Writes a frame now, whatever the buffer (callers checked it). */
  write(conn: Connection, enc: Encoded): void {
    conn.messagesOut++;
    conn.bytesOut += enc.size;
    this.totals.messagesOut++;
    this.totals.bytesOut += enc.size;
    conn.transport.send(enc.frame);
  }

  /** Counts frames sent, once per batch. */
  countOut(type: string, messages: number, bytes: number): void {
    if (messages === 0) return;
    this.#deps.metrics.messages.inc({ type, direction: "out" }, messages);
    this.#deps.metrics.bytes.inc({ direction: "out" }, bytes);
  }

  /**
   * Sends held-back latest values to sockets that have drained below half the bound and
   * whose client is not behind on a ping (see {@linkcode Outbound.lagging}).
   */
  flush(): void {
    const lowWater = this.#deps.limits.maxBufferedBytes / 2;
    const now = this.#deps.now();
    let drain = false;
    for (const conn of [...this.#behind]) {
      if (conn.closed) {
        this.#behind.delete(conn);
        continue;
      }
      if (
        conn.transport.bufferedAmount > lowWater || this.backlogged(conn) ||
        this.lagging(conn, now)
      ) {
        if (this.backlogged(conn)) drain = true;
        continue;
      }
      this.#behind.delete(conn);
      this.#release(conn, now);
    }
    if (drain) this.#deps.drainSoon?.(this.#flow!.drainMs);
  }

  /** Writes a connection's held-back values (the newest of each channel), then probes. */
  #release(conn: Connection, now: number): void {
    const frames = [...conn.pending];
    if (frames.length > 0) conn.pendingMap().clear();
    let bytes = 0;
    for (const [channel, held] of frames) {
      this.write(conn, held);
      bytes += held.size;
      // A full frame: the connection now holds this publication.
      if (held.seq !== undefined && conn.deltas.has(channel)) {
        conn.deltaMap().set(channel, held.seq);
      }
    }
    this.countOut("message", frames.length, bytes);
    if (frames.length > 0) this.#probe(conn, now);
  }
}

/** A frame tagged with the publication it carries. */
function withSeq(enc: Encoded, seq: number): HeldFrame {
  return { frame: enc.frame, size: enc.size, seq };
}
