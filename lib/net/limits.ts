/** Connection-level limits of the guard (lib/net/guard.ts), with their documented defaults. */

/** Every bound the connection guard enforces. All are per isolate. */
export interface NetLimits {
  /**
   * Open TCP connections of this isolate, in every state; more are refused at accept.
   * 0 (the default) = derived from the open-file limit at start (lib/net/rlimit.ts).
   */
  maxSockets: number;
  /** Open TCP connections from one address, in every state (HTTP, WebSocket, closing). Default 600. */
  maxSocketsPerIp: number;
  /**
   * Connections from one address that are not WebSockets (no request yet, or HTTP):
   * the cap that applies before any upgrade. Default 64.
   */
  maxPendingPerIp: number;
  /**
   * A request head must be complete this long after the connection opened, and each
   * later head this long after its first byte, ms. Default 10 000.
   */
  headerTimeoutMs: number;
  /** An HTTP connection with no request in flight and no traffic closes after this, ms. Default 30 000. */
  keepAliveTimeoutMs: number;
  /** A request must be answered (body included) within this, ms. Default 60 000. */
  requestTimeoutMs: number;
  /** Largest request head, bytes; larger → 431. Default 16 384. */
  maxHeadBytes: number;
  /** After the server's close frame, the peer has this long to answer before the TCP close, ms. Default 2 000. */
  closeTimeoutMs: number;
  /** A started WebSocket frame (or fragmented message) must complete within this, ms. Default 10 000. */
  frameTimeoutMs: number;
  /** Bytes of unfinished WebSocket frames held by all sockets together. Default 64 MiB. */
  partialFrameBudgetBytes: number;
}

/** The defaults (README's configuration table lists the same). */
export const DEFAULT_NET_LIMITS: Readonly<NetLimits> = {
  maxSockets: 0,
  maxSocketsPerIp: 600,
  maxPendingPerIp: 64,
  headerTimeoutMs: 10_000,
  keepAliveTimeoutMs: 30_000,
  requestTimeoutMs: 60_000,
  maxHeadBytes: 16_384,
  closeTimeoutMs: 2_000,
  frameTimeoutMs: 10_000,
  partialFrameBudgetBytes: 64 * 1024 * 1024,
};

/**
 * Descriptors kept free for everything that is not a client connection (KV, files, the
 * internal HTTP hop, the runtime), per process.
 */
export const RESERVED_DESCRIPTORS = 256;

/**
 * The socket cap of one isolate when `maxSockets` is 0: the soft open-file limit minus
 * {@linkcode RESERVED_DESCRIPTORS}, shared by `isolates`, counting 3 descriptors for a
 * proxied HTTP connection (client, internal client, internal server) — so the process
 * refuses connections before the runtime's own accept fails.
 */
export function autoMaxSockets(softLimit: number | null, isolates: number): number {
  if (softLimit === null || !Number.isFinite(softLimit)) return 10_000;
  const usable = Math.max(0, softLimit - RESERVED_DESCRIPTORS);
  return Math.max(16, Math.floor(usable / Math.max(1, isolates) / 3));
}
