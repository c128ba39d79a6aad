/** One accepted connection's state, owned by the hub. */
import type { Principal } from "../auth/types.ts";
import type { Codec } from "../protocol/codec.ts";
import { TokenBucket } from "./limits.ts";
import type { Transport } from "./transport.ts";

/** What the hub needs to accept a connection. */
export interface ConnectionInit {
  principal: Principal;
  codec: Codec;
  /** The client's IP address (for per-IP limits and logs). */
  ip: string;
  /**
   * Whether frames may carry several messages (the `….batch` subprotocol): what the hub
   * writes to the connection in one task goes out as one frame (lib/gateway/batching.ts).
   */
  batch?: boolean;
}

/** An encoded frame of a latest-value publication; `seq` identifies the publication. */
export interface HeldFrame {
  frame: string | Uint8Array;
  size: number;
  /** The hub's sequence number of the publication (latest-value channels). */
  seq?: number;
}

/** Live messages held for a channel being recovered. */
export type RecoveryBuffer = { enc: HeldFrame; offset?: number }[];

const NO_CHANNELS: ReadonlySet<string> = new Set();
const NO_ENTRIES: ReadonlyMap<string, never> = new Map<string, never>();

/**
 * A connection: identity, subscriptions, heartbeat, rate and backpressure state. Its four
 * collections are created on first write (an idle connection holds none: docs/PERFORMANCE.md,
 * "Memory per connection"); read them through the views, change them through `…Of()`.
 */
export class Connection {
  #channels: Set<string> | undefined;
  #deltas: Map<string, number> | undefined;
  #pending: Map<string, HeldFrame> | undefined;
  #recovering: Map<string, RecoveryBuffer> | undefined;

  /** Subscribed channels. */
  get channels(): ReadonlySet<string> {
    return this.#channels ?? NO_CHANNELS;
  }
  /** {@linkcode Connection.channels}, to change. */
  channelSet(): Set<string> {
    return this.#channels ??= new Set();
  }
  /**
   * Channels subscribed with delta → the hub's sequence number of the publication this
   * connection was last sent in full or as a patch (0: none yet; the next is sent full).
   */
  get deltas(): ReadonlyMap<string, number> {
    return this.#deltas ?? NO_ENTRIES;
  }
  /** {@linkcode Connection.deltas}, to change. */
  deltaMap(): Map<string, number> {
    return this.#deltas ??= new Map();
  }
  /** Latest-value frames held back while the socket is behind, newest per channel. */
  get pending(): ReadonlyMap<string, HeldFrame> {
    return this.#pending ?? NO_ENTRIES;
  }
  /** {@linkcode Connection.pending}, to change. */
  pendingMap(): Map<string, HeldFrame> {
    return this.#pending ??= new Map();
  }
  /** Channels being recovered → live messages held until the replay is sent. */
  get recovering(): ReadonlyMap<string, RecoveryBuffer> {
    return this.#recovering ?? NO_ENTRIES;
  }
  /** {@linkcode Connection.recovering}, to change. */
  recoveringMap(): Map<string, RecoveryBuffer> {
    return this.#recovering ??= new Map();
  }
  principal: Principal;
  closed = false;
  lastActivity: number;
  /** When the next server ping is due. */
  nextPingAt: number;
  /** When the outstanding ping was sent, or null when none is outstanding. */
  pingSentAt: number | null = null;
  /** Last measured heartbeat round trip, ms. */
  rttMs: number | null = null;
  /** Smallest round trip measured: the network's share of a pong's delay, ms. */
  minRttMs = Infinity;
  /** `bytesOut` when the outstanding ping was written (its pong acknowledges them). */
  pingBytes = 0;
  /** `bytesOut` acknowledged by the last pong: the client has read this much. */
  ackedBytes = 0;
  /** When the last flow ping was sent (lib/gateway/outbound.ts), or -Infinity. */
  lastFlowPingAt = -Infinity;
  /** `bytesOut` when the last flow ping was sent. */
  flowPingBytes = 0;
  /** Bytes per ms sent between the last two flow pings (sizes the flow window). */
  flowRate = 0;
  /** Whether the pong of the outstanding ping may pass the rate limit. */
  pongCredit = false;
  /** Whether the `expiring` notice was sent for the current credential. */
  expiryNoticeSent = false;
  /** `history` reads in flight. */
  historyReads = 0;
  readonly bucket: TokenBucket;
  strikes = 0;
  strikeWindowStart: number;
  lastRateErrorAt = -Infinity;
  messagesIn = 0;
  messagesOut = 0;
  bytesIn = 0;
  bytesOut = 0;

  constructor(
    readonly id: string,
    readonly transport: Transport,
    readonly codec: Codec,
    readonly ip: string,
    principal: Principal,
    readonly openedAt: number,
    rate: { perSecond: number; burst: number; pingIntervalMs: number },
  ) {
    this.principal = principal;
    this.lastActivity = openedAt;
    this.nextPingAt = openedAt + rate.pingIntervalMs;
    this.strikeWindowStart = openedAt;
    this.bucket = new TokenBucket(rate.perSecond, rate.burst, openedAt);
  }
}
