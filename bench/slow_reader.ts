/**
 * What `bufferedAmount` shows for a peer that reads slowly, on the runtime's WebSocket
 * (`Deno.upgradeWebSocket`, what `deno serve` gives the hub) and on the connection guard's
 * (`ServerWebSocket`, lib/net/ws_socket.ts, what `deno task start` gives it).
 *
 * A server sends 300-byte text frames at `rate`/s to one client; the client (a raw TCP
 * socket: no WebSocket library buffering on its side) reads `readBytes` every 100 ms.
 * Every 500 ms the table gets: bytes sent by the application, bytes the client has read,
 * the socket's `bufferedAmount`, and the rest — what sits in the kernel's send and receive
 * buffers, invisible to the server. Loopback, one process.
 *
 *   deno run -A bench/slow_reader.ts [rate=2000] [readBytes=16384] [seconds=6]
 */
import { ServerWebSocket } from "../lib/net/ws_socket.ts";
import { switchingProtocols } from "../lib/net/ws_handshake.ts";

const [rate = 2000, readBytes = 16_384, seconds = 6] = Deno.args.map(Number);
const FRAME = "x".repeat(296); // + 4 bytes of header at 126+ … 300 bytes on the wire ±2

interface Sender {
  send(text: string): void;
  readonly bufferedAmount: number;
  close(): void;
}

async function slowClient(port: number): Promise<{ read: () => number; close(): void }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const key = btoa("0123456789abcdef");
  await conn.write(
    new TextEncoder().encode(
      `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    ),
  );
  let total = 0;
  let open = true;
  const buf = new Uint8Array(readBytes);
  (async () => {
    while (open) {
      let got = 0;
      while (open && got < readBytes) {
        const n = await conn.read(buf.subarray(got)).catch(() => null);
        if (n === null) return;
        got += n;
        total += n;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    read: () => total,
    close() {
      open = false;
      conn.close();
    },
  };
}

async function measure(
  name: string,
  serve: (onSocket: (s: Sender) => void) => {
    port: number;
    stop(): Promise<void>;
  },
): Promise<void> {
  let socket: Sender | undefined;
  const opened = Promise.withResolvers<void>();
  const server = serve((s) => {
    socket = s;
    opened.resolve();
  });
  const client = await slowClient(server.port);
  await opened.promise;
  let sent = 0;
  const started = performance.now();
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    while (sent < due) {
      socket!.send(FRAME);
      sent++;
    }
  }, 5);
  console.log(`\n${name}: ${rate} frames/s of 300 B sent, client reads ${readBytes} B / 100 ms`);
  console.log("| t (s) | sent KB | read KB | bufferedAmount KB | in kernel buffers KB |");
  console.log("| ---: | ---: | ---: | ---: | ---: |");
  for (let t = 0.5; t <= seconds; t += 0.5) {
    await new Promise((r) => setTimeout(r, 500));
    const sentBytes = sent * 300;
    const read = client.read();
    const buffered = socket!.bufferedAmount;
    console.log(
      `| ${t.toFixed(1)} | ${(sentBytes / 1024).toFixed(0)} | ${(read / 1024).toFixed(0)} | ${
        (buffered / 1024).toFixed(0)
      } | ${((sentBytes - read - buffered) / 1024).toFixed(0)} |`,
    );
  }
  clearInterval(timer);
  client.close();
  socket!.close();
  await server.stop();
}

await measure("Deno.upgradeWebSocket (deno serve)", (onSocket) => {
  const ac = new AbortController();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: ac.signal,
    onListen() {},
  }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
    socket.onopen = () =>
      onSocket({
        send: (t) => socket.send(t),
        get bufferedAmount() {
          return socket.bufferedAmount;
        },
        close: () => socket.close(),
      });
    socket.onerror = () => {};
    return response;
  });
  return {
    port: server.addr.port,
    async stop() {
      ac.abort();
      await server.finished;
    },
  };
});

await measure("ServerWebSocket (connection guard)", (onSocket) => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let conn: Deno.TcpConn | undefined;
  (async () => {
    conn = await listener.accept();
    conn.setNoDelay(true);
    const buf = new Uint8Array(4096);
    let head = "";
    while (!head.includes("\r\n\r\n")) {
      const n = await conn.read(buf);
      if (n === null) return;
      head += new TextDecoder().decode(buf.subarray(0, n));
    }
    const key = head.match(/sec-websocket-key: *(\S+)/i)![1];
    const ws = new ServerWebSocket(conn, {
      maxMessageBytes: 65_536,
      frameTimeoutMs: 10_000,
      closeTimeoutMs: 1_000,
    });
    ws.onopen = () =>
      onSocket({
        send: (t) => ws.send(t),
        get bufferedAmount() {
          return ws.bufferedAmount;
        },
        close: () => ws.terminate(),
      });
    ws.start(await switchingProtocols(key));
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    stop() {
      listener.close();
      return Promise.resolve();
    },
  };
});
Deno.exit(0);
