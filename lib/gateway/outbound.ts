/**
 * The outbound path of one hub: writes frames to connections under the per-connection
 * byte bound. A socket more than `maxBufferedBytes` behind gets only the newest message
 * per latest-value channel (flushed once it drains below half the bound); on ordered
 * channels, and for replies, it is disconnected as a slow consumer (4001). Metrics are
 * counted once per broadcast, not per delivery.
 */
import type { Logger } from "../app/log.ts";
import { CloseCode } from "../protocol/codes.ts";
import type { ServerMessage } from "../protocol/messages.ts";
import type { Connection } from "./connection.ts";
import { type Encoded, encoded, FrameCache } from "./frames.ts";
import type { GatewayLimits } from "./limits.ts";
import type { GatewayMetrics } from "./metrics.ts";

/** Live messages held for one connection while its subscription is being recovered. */
export const MAX_RECOVERY_BUFFER = 1_000;

/** What happened to one frame handed to {@linkcode Outbound.deliver}. */
export type Delivery = "written" | "held" | "dropped";

/** Dependencies of {@linkcode Outbound}. */
export interface OutboundDeps {
  limits: Readonly<GatewayLimits>;
  metrics: GatewayMetrics;
  log?: Logger;
  /** Closes a connection from the server side (the hub's `disconnect`). */
  disconnect(conn: Connection, code: number, reason: string): void;
}

/** Writes, conflates and flushes frames for the connections of one hub. */
export class Outbound {
  readonly totals = { messagesOut: 0, bytesOut: 0 };
  #deps: OutboundDeps;
  #behind = new Set<Connection>();

  constructor(deps: OutboundDeps) {
    this.#deps = deps;
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
  ): number {
    const cache = new FrameCache(message);
    let handed = 0;
    let written = 0;
    let bytes = 0;
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
        held.push({ enc, offset: of!.offset });
        handed++;
        continue;
      }
      const result = this.deliver(conn, enc, latestChannel);
      if (result === "dropped") continue;
      handed++;
      if (result === "written") {
        written++;
        bytes += enc.size;
      }
    }
    this.countOut(message.type, written, bytes);
    return handed;
  }

  /**
   * Writes a frame unless the socket is behind. Then a latest-value frame replaces any
   * held-back frame of its channel (conflation), and anything else disconnects the slow
   * consumer with 4001.
   */
  deliver(conn: Connection, enc: Encoded, latestChannel?: string): Delivery {
    if (conn.closed) return "dropped";
    const { limits, metrics } = this.#deps;
    if (conn.transport.bufferedAmount > limits.maxBufferedBytes) {
      if (latestChannel !== undefined) {
        if (conn.pending.has(latestChannel)) metrics.conflations.inc();
        conn.pending.set(latestChannel, enc);
        this.#behind.add(conn);
        return "held";
      }
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
    if (latestChannel !== undefined && conn.pending.size > 0) conn.pending.delete(latestChannel);
    this.write(conn, enc);
    return "written";
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

  /** Sends held-back latest values to sockets that have drained below half the bound. */
  flush(): void {
    const lowWater = this.#deps.limits.maxBufferedBytes / 2;
    for (const conn of [...this.#behind]) {
      if (conn.closed) {
        this.#behind.delete(conn);
        continue;
      }
      if (conn.transport.bufferedAmount > lowWater) continue;
      this.#behind.delete(conn);
      const frames = [...conn.pending.values()];
      conn.pending.clear();
      let bytes = 0;
      for (const enc of frames) {
        this.write(conn, enc);
        bytes += enc.size;
      }
      this.countOut("message", frames.length, bytes);
    }
  }
}
