/** The one place that touches `Deno.upgradeWebSocket`: wires a native socket to the hub. */
import type { Admission, Admitted } from "./admission.ts";
import type { Connection, Hub } from "./hub.ts";
import type { Transport } from "./transport.ts";

/** A {@linkcode Transport} over a WebSocket. Sends after close are dropped silently. */
export function webSocketTransport(socket: WebSocket): Transport {
  return {
    send(frame: string | Uint8Array): void {
      if (socket.readyState === WebSocket.OPEN) {
        socket.send(frame as string | Uint8Array<ArrayBuffer>);
      }
    },
    close(code: number, reason: string): void {
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
        socket.close(code, reason.slice(0, 123));
      }
    },
    get bufferedAmount(): number {
      return socket.bufferedAmount;
    },
  };
}

/**
 * Upgrades an admitted request and attaches the socket to `hub`. Deno's own idle
 * ping is off: the hub's application heartbeat is the one documented mechanism.
 */
export function upgradeToHub(req: Request, hub: Hub, admitted: Admitted): Response {
  const { socket, response } = Deno.upgradeWebSocket(req, {
    protocol: admitted.protocol,
    idleTimeout: 0,
  });
  socket.binaryType = "arraybuffer";
  let conn: Connection | undefined;
  socket.onopen = () => {
    conn = hub.open(webSocketTransport(socket), admitted);
  };
  socket.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
    if (conn) hub.receive(conn, event.data);
  };
  socket.onclose = (event: CloseEvent) => {
    if (conn) hub.closed(conn, event.code);
  };
  socket.onerror = () => {
    // A close event always follows.
  };
  return response;
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
