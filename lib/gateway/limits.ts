/** Gateway limits with their documented defaults, and the token bucket that enforces rates. */

/** Every limit the gateway enforces. All are per isolate. */
export interface GatewayLimits {
  /** Largest accepted client frame, bytes; larger → close 1009. Default 65 536. */
  maxFrameBytes: number;
  /** Largest `publish` payload (encoded `data`), bytes. Default 16 384. */
  maxPublishBytes: number;
  /** Subscriptions per connection. Default 128. */
  maxSubscriptions: number;
  /** Sustained client messages per second per connection. Default 50. */
  messagesPerSecond: number;
  /** Burst of client messages above the sustained rate. Default 100. */
  messageBurst: number;
  /** Refused messages within one 10 s window that close the connection (4502). Default 200. */
  floodStrikes: number;
  /** Open connections per user. Default 32. */
  maxConnectionsPerUser: number;
  /** Open connections per client IP. Default 512. */
  maxConnectionsPerIp: number;
  /** New connections per second per IP (burst = 2×). Default 20. */
  upgradesPerSecondPerIp: number;
  /** New connections per second for the whole isolate (burst = 2×). Default 500. */
  upgradesPerSecond: number;
  /** Bytes a connection may have waiting to be written before backpressure acts. Default 1 MiB. */
  maxBufferedBytes: number;
  /** Members listed per presence channel. Default 1 000. */
  maxPresenceMembers: number;
  /** Server ping interval, ms. Default 25 000. */
  pingIntervalMs: number;
  /** Deadline for the client's pong, ms. Default 8 000. */
  pongTimeoutMs: number;
  /** Close connections with no subscriptions and no messages for this long, ms. Default 300 000. */
  idleTimeoutMs: number;
}

/** The defaults (also in README's configuration table and docs/PROTOCOL.md). */
export const DEFAULT_LIMITS: Readonly<GatewayLimits> = {
  maxFrameBytes: 65_536,
  maxPublishBytes: 16_384,
  maxSubscriptions: 128,
  messagesPerSecond: 50,
  messageBurst: 100,
  floodStrikes: 200,
  maxConnectionsPerUser: 32,
  maxConnectionsPerIp: 512,
  upgradesPerSecondPerIp: 20,
  upgradesPerSecond: 500,
  maxBufferedBytes: 1_048_576,
  maxPresenceMembers: 1_000,
  pingIntervalMs: 25_000,
  pongTimeoutMs: 8_000,
  idleTimeoutMs: 300_000,
};

/** A token bucket: `rate` tokens per second, holding at most `burst`. */
export class TokenBucket {
  #tokens: number;
  #last: number;

  constructor(readonly rate: number, readonly burst: number, now: number) {
    this.#tokens = burst;
    this.#last = now;
  }

  /** Takes one token if there is one. */
  take(now: number): boolean {
    this.#refill(now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds until a token is available (0 when one is). */
  waitMs(now: number): number {
    this.#refill(now);
    return this.#tokens >= 1 ? 0 : Math.ceil(((1 - this.#tokens) / this.rate) * 1000);
  }

  #refill(now: number): void {
    const elapsed = Math.max(0, now - this.#last) / 1000;
    this.#last = now;
    this.#tokens = Math.min(this.burst, this.#tokens + elapsed * this.rate);
  }
}

/**
 * Token buckets keyed by a string (e.g. client IP), bounded: when full, the least
 * recently used key is evicted, so a spray of addresses cannot grow memory.
 */
export class KeyedBuckets {
  #buckets = new Map<string, TokenBucket>();

  constructor(readonly rate: number, readonly burst: number, readonly maxKeys = 10_000) {}

  /** Takes a token for `key`; returns the wait in ms when there is none (0 = allowed). */
  take(key: string, now: number): number {
    let bucket = this.#buckets.get(key);
    if (bucket) {
      this.#buckets.delete(key);
    } else {
      bucket = new TokenBucket(this.rate, this.burst, now);
      if (this.#buckets.size >= this.maxKeys) {
        this.#buckets.delete(this.#buckets.keys().next().value!);
      }
    }
    this.#buckets.set(key, bucket);
    return bucket.take(now) ? 0 : Math.max(1, bucket.waitMs(now));
  }

  /** Keys tracked. */
  get size(): number {
    return this.#buckets.size;
  }
}
