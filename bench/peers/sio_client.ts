/**
 * A minimal Socket.IO v4 client (engine.io protocol 4, websocket transport only) over a
 * plain Deno `WebSocket`, for the load generator and the peer smoke test. No polling, no
 * reconnection, no acks, no binary attachments, default namespace only.
 *
 * ```ts
 * const sock = sioConnect("ws://127.0.0.1:3000", "secret", {
 *   onOpen() { sock.emit("subscribe", "room-1"); },       // namespace connect accepted
 *   onEvent(name, payloadText) { ... },                   // `42["name",<payload>]`
 *   onError(error) { ... },                               // refused (bad token) or socket failed before onOpen
 *   onClose() { ... },                                    // socket closed (after or without onOpen)
 * });
 * sock.close();
 * ```
 *
 * `url` is the server origin (`ws://host:port`; a path/query is replaced) and `token`
 * travels as the auth payload (`40{"token":…}`, `socket.handshake.auth.token` on the
 * server). `onEvent` gets the event name and the raw JSON text of the first argument,
 * unparsed (the receive path stays cheap; use `JSON.parse(payloadText)` when needed).
 * Server pings (`2`) are answered with pongs (`3`) automatically; Socket.IO closes
 * clients that stop answering after pingInterval + pingTimeout (25 s + 20 s by default).
 *
 * Wire format used: server `0{"sid",…}` (engine open) → client `40{"token":"…"}` → server
 * `40{"sid":…}` (connected) or `44{"message":…}` (refused by middleware); events are
 * `42["event",arg]` both ways.
 */
export interface SioHandlers {
  /** The namespace connect was accepted: `emit` may be used. */
  onOpen?(): void;
  /** An event from the server: its name and the raw JSON text of its first argument. */
  onEvent?(name: string, payloadText: string): void;
  /** Refused (`44`, e.g. a bad token) or the socket failed / closed before `onOpen`. */
  onError?(error: Error): void;
  /** The socket closed (also after `onError`). */
  onClose?(): void;
}

export interface SioSocket {
  /** Sends `42["event",...args]`. */
  emit(event: string, ...args: unknown[]): void;
  /** Sends one raw engine.io packet (e.g. `42["x",1]`). */
  send(packet: string): void;
  close(): void;
  /** The underlying WebSocket. */
  readonly ws: WebSocket;
}

/** `ws://host:port` (or `http://…`) → the engine.io websocket URL. */
export function sioUrl(origin: string): string {
  const url = new URL(origin);
  url.protocol = url.protocol === "https:" || url.protocol === "wss:" ? "wss:" : "ws:";
  url.pathname = "/socket.io/";
  url.search = "?EIO=4&transport=websocket";
  return url.href;
}

export function sioConnect(url: string, token: string, handlers: SioHandlers = {}): SioSocket {
  const ws = new WebSocket(sioUrl(url));
  let connected = false;
  let failed = false;
  const fail = (message: string) => {
    if (connected || failed) return;
    failed = true;
    handlers.onError?.(new Error(message));
  };
  ws.onmessage = (e) => {
    const text = e.data as string;
    switch (text.charCodeAt(0) === 52 ? text.slice(0, 2) : text[0]) { // 52 = "4": socket.io packet
      case "42": { // event: 42["name",payload]
        const end = text.indexOf('"', 4);
        const rest = text.slice(end + 2, -1); // after `",` and before the closing `]`
        handlers.onEvent?.(text.slice(4, end), rest);
        return;
      }
      case "2": // engine.io ping
        ws.send("3");
        return;
      case "0": // engine.io open
        ws.send(`40${JSON.stringify({ token })}`);
        return;
      case "40":
        connected = true;
        handlers.onOpen?.();
        return;
      case "44": {
        let message = text.slice(2);
        try {
          message = JSON.parse(message).message ?? message;
        } catch { /* keep the raw text */ }
        fail(`socket.io connect refused: ${message}`);
        ws.close();
        return;
      }
      case "41": // namespace disconnect
      case "1": // engine.io close
        ws.close();
        return;
    }
  };
  ws.onerror = () => fail("socket.io websocket error");
  ws.onclose = () => {
    fail("socket.io websocket closed before connect");
    handlers.onClose?.();
  };
  return {
    ws,
    emit: (event, ...args) => ws.send(`42${JSON.stringify([event, ...args])}`),
    send: (packet) => ws.send(packet),
    close: () => ws.close(),
  };
}
