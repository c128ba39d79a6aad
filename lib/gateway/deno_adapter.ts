/**
 * The one place that upgrades requests and wires sockets to the hub: the connection
 * guard's own WebSocket for requests it read (lib/net/guard.ts, `deno task start`), else
 * `Deno.upgradeWebSocket` (`deno serve main.ts`, Deno Deploy, in-process tests).
 */
import { guardedUpgrade } from "../net/upgrade.ts";
import type { ServerWebSocket } from "../net/ws_socket.ts";
import type { Admission, Admitted } from "./admission.ts";
import type { Connection, Hub } from "./hub.ts";
import type { Transport } from "./transport.ts";

/** What the adapter needs of a socket: the runtime's `WebSocket` or the guard's. */
export interface HubSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(frame: string | Uint8Array): void;
  close(code: number, reason: string): void;
}

const OPEN = 1;
const CONNECTING = 0;

/**
 * A {@linkcode Transport} over a WebSocket (the runtime's or the guard's). Sends after close
 * are dropped silently. One small object per connection, methods on the prototype.
 */
class SocketTransport implements Transport {
  constructor(readonly socket: HubSocket) {}
  send(frame: string | Uint8Array): void {
    if (this.socket.readyState === OPEN) this.socket.send(frame);
  }
  close(code: number, reason: string): void {
    const state = this.socket.readyState;
    if (state === OPEN || state === CONNECTING) this.socket.close(code, reason.slice(0, 123));
  }
  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }
}

/** A {@linkcode Transport} over a WebSocket. Sends after close are dropped silently. */
export function webSocketTransport(socket: HubSocket): Transport {
  return new SocketTransport(socket);
}

/**
 * The event handlers of one socket, as one object (`handleEvent`) rather than three
 * closures: the connection exists from `open` on.
 */
class HubListener {
  conn: Connection | undefined;
  constructor(
    readonly socket: HubSocket,
    readonly hub: Hub,
    readonly admitted: Admitted,
  ) {}
  handleEvent(event: Event): void {
    switch (event.type) {
      case "open":
        this.conn = this.hub.open(new SocketTransport(this.socket), this.admitted);
        return;
      case "message":
        if (this.conn) {
          this.hub.receive(this.conn, (event as MessageEvent<string | ArrayBuffer>).data);
        }
        return;
      case "close":
        if (this.conn) this.hub.closed(this.conn, (event as CloseEvent).code);
        return;
    }
  }
}

/**
 * Upgrades an admitted request and attaches the socket to `hub`. A request the
 * connection guard read is upgraded on the guard's socket (frames bounded at their
 * header, a lingering close bounded in time: docs/SECURITY.md); any other on
 * `Deno.upgradeWebSocket`, whose own idle ping is off: the hub's application heartbeat
 * is the one documented mechanism.
 */
export function upgradeToHub(req: Request, hub: Hub, admitted: Admitted): Response {
  const guarded = guardedUpgrade(req);
  if (guarded) {
    const { socket, response } = guarded.accept({
      protocol: admitted.protocol,
      maxMessageBytes: hub.limits.maxFrameBytes,
    });
    attachGuarded(socket, hub, admitted);
    return response;
  }
  const { socket, response } = Deno.upgradeWebSocket(req, {
    protocol: admitted.protocol,
    idleTimeout: 0,
  });
  socket.binaryType = "arraybuffer";
  // The runtime's WebSocket is a HubSocket (send takes what the hub sends).
  const listener = new HubListener(socket as unknown as HubSocket, hub, admitted);
  socket.addEventListener("open", listener);
  socket.addEventListener("message", listener);
  socket.addEventListener("close", listener);
  // An error event is always followed by close; nothing to do (listening keeps it quiet).
  socket.addEventListener("error", NOOP);
  return response;
}

const NOOP = () => {};

function attachGuarded(socket: ServerWebSocket, hub: Hub, admitted: Admitted): void {
  let conn: Connection | undefined;
  socket.onopen = () => {
    conn = hub.open(webSocketTransport(socket), admitted);
  };
  socket.onmessage = (event) => {
    if (conn) hub.receive(conn, event.data);
  };
  socket.onclose = (event) => {
    if (conn) hub.closed(conn, event.code);
  };
}

/**
 * Admits and upgrades one request: the refusal response, or the 101 with the socket
 * attached to `hub`. Used by the `/api/ws` route and by standalone gateway servers.
 */
export async function acceptUpgrade(
  req: Request,
  ip: string,
  hub: Hub,
  admit: Admission,
): Promise<Response> {
  const admitted = await admit(req, ip);
  return admitted.ok ? upgradeToHub(req, hub, admitted) : admitted.response;
}
