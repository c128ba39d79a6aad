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
}

/** A connection: identity, subscriptions, heartbeat, rate and backpressure state. */
export class Connection {
  readonly channels = new Set<string>();
  /** Latest-value frames held back while the socket is behind, newest per channel. */
  readonly pending = new Map<string, { frame: string | Uint8Array; size: number }>();
  /** Channels being recovered → live messages held until the replay is sent. */
  readonly recovering = new Map<
    string,
    { enc: { frame: string | Uint8Array; size: number }; offset?: number }[]
  >();
  principal: Principal;
  closed = false;
  lastActivity: number;
  /** When the next server ping is due. */
  nextPingAt: number;
  /** When the outstanding ping was sent, or null when none is outstanding. */
  pingSentAt: number | null = null;
  /** Last measured heartbeat round trip, ms. */
  rttMs: number | null = null;
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
