/**
 * The connection guard: our own accept loop in front of the app, for what `Deno.serve`
 * (and `deno serve`) give no hook for (measurements: docs/SECURITY.md).
 *
 * - **Accept**: caps on open connections per isolate, per address, and per address
 *   before any upgrade, checked before a byte is read; `accept()` failing for lack of
 *   descriptors (EMFILE) is survived: new connections are refused (one queued connection
 *   is shed with a reserve descriptor), existing ones keep being served, one log line,
 *   a metric — where the runtime's own accept loop ends the process.
 * - **Request deadlines**: the first request head must be complete `headerTimeoutMs`
 *   after accept (half-open and slowloris connections), later heads `headerTimeoutMs`
 *   after their first byte; idle keep-alive connections close after `keepAliveTimeoutMs`,
 *   requests must finish within `requestTimeoutMs`.
 * - **WebSocket upgrades** (first request of a connection) are answered here, on our
 *   {@linkcode ServerWebSocket} (frame limits at the header, frame deadlines, a bounded
 *   lingering close) — the app's handler decides, via lib/net/upgrade.ts.
 * - **Everything else** is passed byte for byte to the runtime's HTTP server on a
 *   loopback port of this isolate (`Deno.serve`), whose handler gets the real client
 *   address; requests reaching that port any other way are refused.
 */
import type { NetLimits } from "./limits.ts";
import type { NetMetrics } from "./metrics.ts";
import { isUpgradeHead, readHead, type RequestHead, requestOf } from "./http_head.ts";
import { registerGuardedUpgrade } from "./upgrade.ts";
import { handshakeProblem, switchingProtocols } from "./ws_handshake.ts";
import { ServerWebSocket } from "./ws_socket.ts";
import { headerOf } from "./http_head.ts";

/** The logger the guard needs. */
export interface NetLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** The app's request handler, as `Deno.serve` calls it. */
export type GuardedHandler = (
  req: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/** Options of {@linkcode ConnectionGuard}. */
export interface GuardOptions {
  handler: GuardedHandler;
  /** Bounds; `maxSockets` must be resolved (> 0). */
  limits: NetLimits;
  log?: NetLogger;
  metrics?: NetMetrics;
  /** Clock for deadlines; default `Date.now`. */
  now?: () => number;
}

/** Figures for status and tests. */
export interface GuardStats {
  sockets: number;
  /** Connections not (yet) WebSockets. */
  pending: number;
  websockets: number;
  /** Addresses with at least one connection. */
  addresses: number;
  partialFrameBytes: number;
  descriptorsExhausted: boolean;
  refused: number;
  timeouts: number;
}

type Phase = "head" | "upgrade" | "http" | "tunnel" | "ws";

/** One client connection. */
interface Tracked {
  conn: Deno.TcpConn;
  ip: string;
  peer: Deno.NetAddr;
  phase: Phase;
  openedAt: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** When the armed timer fires. */
  timerAt: number;
  /** HTTP phase: requests in flight, and when the oldest started. */
  inflight: number;
  requestStartedAt: number;
  /** HTTP phase: first byte of a head not yet handed to the handler (null: none). */
  headSince: number | null;
  lastActivity: number;
  upstream?: Deno.TcpConn;
  upstreamPort?: number;
  socket?: ServerWebSocket;
  closed: boolean;
}

const encoder = new TextEncoder();
/** Read buffer of each direction of a proxied HTTP connection, bytes. */
const PROXY_BUFFER = 16 * 1024;
/** Longest pause between two accept attempts while descriptors are exhausted, ms. */
const MAX_ACCEPT_BACKOFF_MS = 500;

/** A minimal HTTP/1.1 response that ends the connection. */
function plainResponse(status: number, text: string, code: string, extra = ""): Uint8Array {
  const body = JSON.stringify({ error: { code, message: text } }) + "\n";
  return encoder.encode(
    `HTTP/1.1 ${status} ${
      STATUS_TEXT[status] ?? "Error"
    }\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${encoder.encode(body).length}\r\nconnection: close\r\n${extra}\r\n${body}`,
  );
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

function isDescriptorError(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return code === "EMFILE" || code === "ENFILE" ||
    (err instanceof Error && /too many open files/i.test(err.message));
}

function isClosedError(err: unknown): boolean {
  return err instanceof Deno.errors.BadResource || err instanceof Deno.errors.Interrupted;
}

/** Accepts, bounds and routes the connections of one listener. */
export class ConnectionGuard {
  #options: GuardOptions;
  #limits: NetLimits;
  #now: () => number;
  #tracked = new Set<Tracked>();
  #byIp = new Map<string, { total: number; pending: number }>();
  #byUpstreamPort = new Map<number, Tracked>();
  #websockets = 0;
  #partialBytes = 0;
  #exhaustedSince: number | null = null;
  #refused = 0;
  #timeouts = 0;
  #reserve: Deno.FsFile | null = null;
  #listeners = new Set<Deno.TcpListener>();
  #internal:
    | { server: Deno.HttpServer<Deno.NetAddr>; port: number; abort: AbortController }
    | null = null;
  #closing = false;

  constructor(options: GuardOptions) {
    if (!(options.limits.maxSockets > 0)) {
      throw new Error("Cannot create the connection guard: limits.maxSockets must be resolved");
    }
    this.#options = options;
    this.#limits = options.limits;
    this.#now = options.now ?? Date.now;
  }

  /** Current figures. */
  stats(): GuardStats {
    let pending = 0;
    for (const t of this.#tracked) if (t.phase !== "ws") pending++;
    return {
      sockets: this.#tracked.size,
      pending,
      websockets: this.#websockets,
      addresses: this.#byIp.size,
      partialFrameBytes: this.#partialBytes,
      descriptorsExhausted: this.#exhaustedSince !== null,
      refused: this.#refused,
      timeouts: this.#timeouts,
    };
  }

  /** Connections from `ip` (all states), for tests and status. */
  socketsFrom(ip: string): number {
    return this.#byIp.get(ip)?.total ?? 0;
  }

  /** Accepts connections from `listener` until {@linkcode close} (one call per listener). */
  async serve(listener: Deno.TcpListener): Promise<void> {
    this.#listeners.add(listener);
    this.#openReserve();
    this.#startInternal();
    let backoff = 0;
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (this.#closing || isClosedError(err)) return;
        if (isDescriptorError(err)) {
          this.#options.metrics?.acceptErrors.inc({ error: "descriptors" });
          await this.#descriptorsExhausted(listener);
          backoff = Math.min(Math.max(backoff * 2, 10), MAX_ACCEPT_BACKOFF_MS);
        } else {
          this.#options.metrics?.acceptErrors.inc({ error: "other" });
          backoff = 10;
        }
        await new Promise((resolve) => setTimeout(resolve, backoff));
        continue;
      }
      backoff = 0;
      if (this.#exhaustedSince !== null) {
        this.#options.log?.info("accepting connections again", {
          refusedForMs: this.#now() - this.#exhaustedSince,
        });
        this.#exhaustedSince = null;
        this.#openReserve();
      }
      this.#admit(conn);
    }
  }

  /**
   * Stops accepting and closes the internal HTTP server and every connection that is not a
   * WebSocket; open WebSockets stay (the hub closes them) unless `terminate` is set.
   */
  async close(options: { terminate?: boolean } = {}): Promise<void> {
    this.#closing = true;
    for (const listener of this.#listeners) {
      try {
        listener.close();
      } catch {
        // Already closed.
      }
    }
    this.#listeners.clear();
    this.#reserve?.close();
    this.#reserve = null;
    for (const t of [...this.#tracked]) {
      if (t.phase !== "ws") this.#end(t);
      else if (options.terminate) t.socket?.terminate();
    }
    const internal = this.#internal;
    this.#internal = null;
    if (internal) {
      internal.abort.abort();
      await internal.server.finished.catch(() => {});
    }
  }

  // ---- accept ------------------------------------------------------------------------

  #openReserve(): void {
    if (this.#reserve) return;
    try {
      this.#reserve = Deno.openSync(Deno.build.os === "windows" ? "NUL" : "/dev/null");
    } catch {
      this.#reserve = null;
    }
  }

  /**
   * The descriptor table is full. Logs once per episode; frees the reserve descriptor to
   * take the queued connection (accept failed because there is one) and closes it at
   * once, so its client is told instead of hanging in the kernel's queue — unless the
   * reserve can be reopened afterwards, which means descriptors are free again: then the
   * connection is admitted as usual.
   */
  async #descriptorsExhausted(listener: Deno.TcpListener): Promise<void> {
    if (this.#exhaustedSince === null) {
      this.#exhaustedSince = this.#now();
      this.#options.log?.warn(
        "Cannot accept connections: the open-file limit is reached; refusing new connections, serving existing ones",
        { sockets: this.#tracked.size },
      );
    }
    const reserve = this.#reserve;
    if (!reserve) return this.#openReserve();
    this.#reserve = null;
    reserve.close();
    let conn: Deno.TcpConn;
    try {
      conn = await listener.accept();
    } catch {
      return this.#openReserve();
    }
    this.#openReserve();
    if (this.#reserve && !this.#closing) {
      this.#options.log?.info("accepting connections again", {
        refusedForMs: this.#now() - this.#exhaustedSince,
      });
      this.#exhaustedSince = null;
      return this.#admit(conn);
    }
    this.#refuse(conn, "descriptors");
    this.#openReserve();
  }

  #refuse(conn: Deno.Conn, reason: string): void {
    this.#refused++;
    this.#options.metrics?.refused.inc({ reason });
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }

  #admit(conn: Deno.TcpConn): void {
    const peer = conn.remoteAddr as Deno.NetAddr;
    const ip = peer.hostname;
    const counts = this.#byIp.get(ip) ?? { total: 0, pending: 0 };
    const limits = this.#limits;
    if (this.#tracked.size >= limits.maxSockets) return this.#refuse(conn, "capacity");
    if (counts.total >= limits.maxSocketsPerIp) return this.#refuse(conn, "sockets_per_ip");
    if (counts.pending >= limits.maxPendingPerIp) return this.#refuse(conn, "pending_per_ip");
    counts.total++;
    counts.pending++;
    this.#byIp.set(ip, counts);
    const now = this.#now();
    const t: Tracked = {
      conn,
      ip,
      peer,
      phase: "head",
      openedAt: now,
      timer: undefined,
      timerAt: 0,
      inflight: 0,
      requestStartedAt: 0,
      headSince: now,
      lastActivity: now,
      closed: false,
    };
    this.#tracked.add(t);
    try {
      conn.setNoDelay(true);
    } catch {
      // Not fatal.
    }
    this.#arm(t, limits.headerTimeoutMs);
    this.#firstRequest(t).catch((err) => {
      this.#options.log?.error("connection failed", { ip, err });
      this.#end(t);
    });
  }

  // ---- deadlines ---------------------------------------------------------------------

  #arm(t: Tracked, ms: number): void {
    if (t.timer !== undefined) clearTimeout(t.timer);
    t.timerAt = this.#now() + ms;
    t.timer = setTimeout(() => this.#check(t), Math.max(1, ms));
  }

  /** Re-arms the timer when the connection's deadline is now earlier than the armed one. */
  #rearm(t: Tracked): void {
    const due = this.#deadline(t);
    if (due && (t.timer === undefined || due.at < t.timerAt)) {
      this.#arm(t, due.at - this.#now());
    }
  }

  /** When the connection's current deadline falls, and which one it is. */
  #deadline(t: Tracked): { at: number; phase: string } | null {
    const limits = this.#limits;
    switch (t.phase) {
      case "head":
        return { at: t.openedAt + limits.headerTimeoutMs, phase: "header" };
      case "upgrade":
        return { at: t.requestStartedAt + limits.requestTimeoutMs, phase: "handler" };
      case "http":
        if (t.inflight > 0) {
          return { at: t.requestStartedAt + limits.requestTimeoutMs, phase: "request" };
        }
        if (t.headSince !== null) {
          return { at: t.headSince + limits.headerTimeoutMs, phase: "header" };
        }
        return { at: t.lastActivity + limits.keepAliveTimeoutMs, phase: "keepalive" };
      default:
        return null;
    }
  }

  #check(t: Tracked): void {
    t.timer = undefined;
    if (t.closed) return;
    const due = this.#deadline(t);
    if (!due) return;
    const now = this.#now();
    if (now < due.at) return this.#arm(t, due.at - now);
    this.#timeouts++;
    this.#options.metrics?.timeouts.inc({ phase: due.phase });
    this.#end(t);
  }

  // ---- the first request -------------------------------------------------------------

  async #firstRequest(t: Tracked): Promise<void> {
    const result = await readHead(t.conn, this.#limits.maxHeadBytes);
    if (t.closed) return;
    if (!result.ok) {
      if (result.error === "too_large") {
        return this.#reply(t, plainResponse(431, "Request head too large", "head_too_large"));
      }
      if (result.error === "malformed") {
        return this.#reply(t, plainResponse(400, "Malformed request head", "bad_request"));
      }
      return this.#end(t);
    }
    if (isUpgradeHead(result.head)) return await this.#upgrade(t, result.head, result.rest);
    await this.#proxy(t, result.raw, result.rest);
  }

  /** Writes `bytes` and closes (the client may not get them if it keeps sending). */
  async #reply(t: Tracked, bytes: Uint8Array): Promise<void> {
    try {
      await t.conn.write(bytes);
    } catch {
      // Gone.
    }
    this.#end(t);
  }

  // ---- WebSocket upgrades ------------------------------------------------------------

  async #upgrade(t: Tracked, head: RequestHead, rest: Uint8Array): Promise<void> {
    const problem = handshakeProblem(head);
    const req = problem === null ? requestOf(head) : null;
    if (!req) {
      return this.#reply(
        t,
        plainResponse(400, `Cannot upgrade: ${problem ?? "bad Host or target"}`, "bad_request"),
      );
    }
    t.phase = "upgrade";
    t.requestStartedAt = this.#now();
    this.#arm(t, this.#limits.requestTimeoutMs);
    let socket: ServerWebSocket | undefined;
    let protocol: string | undefined;
    registerGuardedUpgrade(req, {
      accept: (options) => {
        if (socket) throw new Error("Cannot accept an upgrade twice");
        protocol = options.protocol;
        socket = this.#websocket(t, options, rest);
        t.socket = socket;
        // The guard writes the 101; this response only tells the guard the handler is done.
        return { socket, response: new Response(null, { status: 200 }) };
      },
    });
    const completed = Promise.withResolvers<void>();
    completed.promise.catch(() => {});
    let response: Response;
    try {
      response = await this.#options.handler(req, {
        remoteAddr: t.peer,
        completed: completed.promise,
      });
    } catch (err) {
      this.#options.log?.error("upgrade handler failed", { err });
      response = new Response(null, { status: 500 });
    }
    if (t.closed) {
      socket?.terminate();
      completed.reject(new Deno.errors.Interrupted("the connection closed"));
      return;
    }
    if (!socket) {
      // Refused (rate limit, Origin, credentials…): send the app's answer and close.
      await this.#reply(t, await serializeResponse(response));
      completed.resolve();
      return;
    }
    const key = headerOf(head, "sec-websocket-key")!;
    const handshake = await switchingProtocols(key, protocol);
    if (t.closed) {
      socket.terminate();
      return;
    }
    this.#becomeWebSocket(t);
    socket.start(handshake);
    completed.resolve();
  }

  #websocket(
    t: Tracked,
    options: { protocol?: string; maxMessageBytes: number },
    rest: Uint8Array,
  ): ServerWebSocket {
    return new ServerWebSocket(t.conn, {
      maxMessageBytes: options.maxMessageBytes,
      frameTimeoutMs: this.#limits.frameTimeoutMs,
      closeTimeoutMs: this.#limits.closeTimeoutMs,
      protocol: options.protocol,
      reserve: (bytes) => {
        if (bytes > 0 && this.#partialBytes + bytes > this.#limits.partialFrameBudgetBytes) {
          return false;
        }
        this.#partialBytes += bytes;
        return true;
      },
      onViolation: (code) => this.#options.metrics?.violations.inc({ code: String(code) }),
      onEnd: () => this.#end(t),
    }, rest);
  }

  #becomeWebSocket(t: Tracked): void {
    t.phase = "ws";
    if (t.timer !== undefined) clearTimeout(t.timer);
    t.timer = undefined;
    this.#websockets++;
    const counts = this.#byIp.get(t.ip);
    if (counts) counts.pending--;
  }

  // ---- plain HTTP --------------------------------------------------------------------

  #startInternal(): void {
    if (this.#internal || this.#closing) return;
    const abort = new AbortController();
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, signal: abort.signal, onListen() {} },
      (req, info) => this.#internalRequest(req, info),
    );
    const internal = { server, port: server.addr.port, abort };
    this.#internal = internal;
    server.finished.catch((err) => {
      // Its accept loop failed (descriptors?): start another one, do not end the process.
      this.#options.log?.error("internal HTTP server failed; restarting it", { err });
      if (this.#internal === internal) this.#internal = null;
      setTimeout(() => this.#startInternal(), 100);
    });
  }

  async #internalRequest(
    req: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ): Promise<Response> {
    const t = this.#byUpstreamPort.get(info.remoteAddr.port);
    if (!t || t.closed) return new Response("Forbidden\n", { status: 403 });
    const now = this.#now();
    if (t.inflight === 0) t.requestStartedAt = now;
    t.inflight++;
    t.headSince = null;
    t.lastActivity = now;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      t.inflight--;
      t.lastActivity = this.#now();
      if (!t.closed) this.#rearm(t);
    };
    info.completed.then(finish, finish);
    try {
      const response = await this.#options.handler(req, {
        remoteAddr: t.peer,
        completed: info.completed,
      });
      // An upgrade through the runtime (a later request on a kept-alive connection):
      // from now on a tunnel, bounded by the gateway's heartbeat.
      if (response.status === 101) t.phase = "tunnel";
      return response;
    } catch (err) {
      finish();
      throw err;
    }
  }

  async #proxy(t: Tracked, head: Uint8Array, rest: Uint8Array): Promise<void> {
    const internal = this.#internal;
    let upstream: Deno.TcpConn;
    try {
      if (!internal) throw new Error("Cannot proxy: the internal HTTP server is restarting");
      upstream = await Deno.connect({ hostname: "127.0.0.1", port: internal.port });
    } catch {
      if (!this.#internal) this.#startInternal();
      return this.#reply(t, plainResponse(503, "Server busy; retry shortly", "busy"));
    }
    if (t.closed) {
      upstream.close();
      return;
    }
    upstream.setNoDelay(true);
    t.upstream = upstream;
    t.upstreamPort = (upstream.localAddr as Deno.NetAddr).port;
    this.#byUpstreamPort.set(t.upstreamPort, t);
    t.phase = "http";
    // The head is complete: it must reach the handler within the header deadline.
    t.headSince = this.#now();
    this.#check(t);
    try {
      await writeAll(upstream, head);
      if (rest.length > 0) await writeAll(upstream, rest);
    } catch {
      return this.#end(t);
    }
    await Promise.all([
      this.#pipe(t, t.conn, upstream, true),
      this.#pipe(t, upstream, t.conn, false),
    ]);
    this.#end(t);
  }

  /** Copies `from` → `to` until either side ends; client bytes start a head deadline. */
  async #pipe(t: Tracked, from: Deno.Conn, to: Deno.Conn, fromClient: boolean): Promise<void> {
    const buf = new Uint8Array(PROXY_BUFFER);
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null || t.closed) break;
        const now = this.#now();
        t.lastActivity = now;
        if (fromClient && t.inflight === 0 && t.headSince === null) {
          t.headSince = now;
          this.#rearm(t);
        }
        await writeAll(to, buf.subarray(0, n));
      }
    } catch {
      // Either side went away.
    }
    this.#end(t);
  }

  // ---- end ---------------------------------------------------------------------------

  #end(t: Tracked): void {
    if (t.closed) return;
    t.closed = true;
    if (t.timer !== undefined) clearTimeout(t.timer);
    this.#tracked.delete(t);
    if (t.upstreamPort !== undefined) this.#byUpstreamPort.delete(t.upstreamPort);
    const counts = this.#byIp.get(t.ip);
    if (counts) {
      counts.total--;
      if (t.phase !== "ws") counts.pending--;
      if (counts.total <= 0) this.#byIp.delete(t.ip);
    }
    if (t.phase === "ws") this.#websockets--;
    for (const c of [t.conn, t.upstream]) {
      try {
        c?.close();
      } catch {
        // Already closed (the WebSocket closes its own connection).
      }
    }
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(at === 0 ? bytes : bytes.subarray(at));
}

/** Serializes a (small) refusal response with `connection: close`. */
async function serializeResponse(response: Response): Promise<Uint8Array> {
  const body = new Uint8Array(await response.arrayBuffer().catch(() => new ArrayBuffer(0)));
  let head = `HTTP/1.1 ${response.status} ${STATUS_TEXT[response.status] ?? "Error"}\r\n`;
  for (const [name, value] of response.headers) {
    if (name === "content-length" || name === "connection" || name === "transfer-encoding") {
      continue;
    }
    head += `${name}: ${value}\r\n`;
  }
  head += `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  const bytes = encoder.encode(head);
  const out = new Uint8Array(bytes.length + body.length);
  out.set(bytes);
  out.set(body, bytes.length);
  return out;
}
