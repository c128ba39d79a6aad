/** The one place that touches `Deno.upgradeWebSocket`: wires a native socket to the hub. */
import type { Connection, Hub } from "./hub.ts";
import type { Transport } from "./transport.ts";

/** A {@linkcode Transport} over a WebSocket. Sends after close are dropped silently. */
export function webSocketTransport(socket: WebSocket): Transport {
  return {
    send(frame: string): void {
      if (socket.readyState === WebSocket.OPEN) socket.send(frame);
    },
    close(code: number, reason: string): void {
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
        socket.close(code, reason);
      }
    },
    get bufferedAmount(): number {
      return socket.bufferedAmount;
    },
  };
}

/** Attaches an (upgraded, not yet open) socket to `hub`. */
export function attachWebSocket(socket: WebSocket, hub: Hub): void {
  let conn: Connection | undefined;
  socket.onopen = () => {
    conn = hub.open(webSocketTransport(socket));
  };
  socket.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
    if (conn) hub.receive(conn, event.data);
  };
  socket.onclose = () => {
    if (conn) hub.close(conn);
  };
  socket.onerror = () => {
    // A close event always follows; nothing to do here.
  };
}

/** Upgrades `req` and attaches the socket to `hub`. The caller has checked it is an upgrade. */
export function upgradeToHub(req: Request, hub: Hub): Response {
  const { socket, response } = Deno.upgradeWebSocket(req);
  socket.binaryType = "arraybuffer";
  attachWebSocket(socket, hub);
  return response;
}

/** True when `req` asks for a WebSocket upgrade. */
export function isWebSocketUpgrade(req: Request): boolean {
  return req.headers.get("upgrade")?.toLowerCase() === "websocket";
}
