/**
 * Where the memory of an idle WebSocket goes in Deno: the server's RSS, JavaScript heap and
 * external (ArrayBuffer) memory per connection, after a full GC, at each stage of the
 * runtime's path — a bare accepted TCP connection, an idle HTTP/1.1 keep-alive connection of
 * `Deno.serve`, a `Deno.upgradeWebSocket` socket — and for the connection guard's own
 * WebSocket (lib/net/ws_socket.ts) on a `Deno.listen` connection. The clients (raw TCP, no
 * WebSocket library) run in a child process; each stage is measured in a fresh server
 * process (freed memory is not always given back to the system).
 *
 *   deno run -A --v8-flags=--expose-gc bench/socket_memory.ts [connections=3000]
 */
import { ServerWebSocket } from "../lib/net/ws_socket.ts";
import { switchingProtocols } from "../lib/net/ws_handshake.ts";

type Stage = "tcp" | "http" | "websocket" | "guard-websocket";
const STAGES: Stage[] = ["tcp", "http", "websocket", "guard-websocket"];

if (Deno.args[0] === "--client") {
  // Child: opens `n` connections of `stage` to `port`, prints "ready", holds until stdin ends.
  const [, stage, port, n] = Deno.args;
  const conns: Deno.TcpConn[] = [];
  const buf = new Uint8Array(4096);
  const key = btoa("0123456789abcdef");
  const ws =
    `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
  const get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  let next = 0;
  await Promise.all(Array.from({ length: 100 }, async () => {
    while (next < Number(n)) {
      next++;
      const c = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
      conns.push(c);
      if (stage === "tcp") continue;
      await c.write(new TextEncoder().encode(stage === "http" ? get : ws));
      let text = "";
      while (!text.includes("\r\n\r\n")) {
        const got = await c.read(buf);
        if (got === null) throw new Error("closed");
        text += new TextDecoder().decode(buf.subarray(0, got));
      }
    }
  }));
  console.log("ready");
  for await (const _ of Deno.stdin.readable) { /* hold */ }
  Deno.exit(0);
}

const count = Number(Deno.args[0] ?? 3000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");

async function settle(): Promise<Deno.MemoryUsage> {
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((r) => setTimeout(r, 200));
  }
  return Deno.memoryUsage();
}

/** A server for `stage` on a free port; `stop()` closes it and everything it holds. */
function serve(stage: Stage): { port: number; stop(): Promise<void> } {
  if (stage === "http" || stage === "websocket") {
    const ac = new AbortController();
    const sockets: WebSocket[] = [];
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
      (req) => {
        if (stage === "http") return new Response("ok");
        const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
        socket.onerror = () => {};
        sockets.push(socket);
        return response;
      },
    );
    return {
      port: server.addr.port,
      async stop() {
        for (const s of sockets) s.close();
        ac.abort();
        await server.finished.catch(() => {});
      },
    };
  }
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: { conn: Deno.TcpConn; ws?: ServerWebSocket }[] = [];
  (async () => {
    for await (const conn of listener) {
      const entry: { conn: Deno.TcpConn; ws?: ServerWebSocket } = { conn };
      held.push(entry);
      if (stage === "tcp") continue;
      (async () => {
        const buf = new Uint8Array(2048);
        let head = "";
        while (!head.includes("\r\n\r\n")) {
          const n = await conn.read(buf);
          if (n === null) return;
          head += new TextDecoder().decode(buf.subarray(0, n));
        }
        const ws = new ServerWebSocket(conn, {
          maxMessageBytes: 65_536,
          frameTimeoutMs: 10_000,
          closeTimeoutMs: 1_000,
        });
        entry.ws = ws;
        ws.start(await switchingProtocols(head.match(/sec-websocket-key: *(\S+)/i)![1]));
      })();
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    stop() {
      listener.close();
      for (const h of held) {
        if (h.ws) h.ws.terminate();
        else {
          try {
            h.conn.close();
          } catch { /* closed */ }
        }
      }
      return Promise.resolve();
    },
  };
}

const only = Deno.args[1] as Stage | undefined;
if (!only) {
  console.log(`| stage | connections | RSS KB / conn | JS heap KB / conn | external KB / conn |`);
  console.log(`| --- | ---: | ---: | ---: | ---: |`);
  for (const stage of STAGES) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--v8-flags=--expose-gc",
        new URL(import.meta.url).pathname,
        String(count),
        stage,
      ],
      stderr: "inherit",
    }).output();
    Deno.stdout.writeSync(out.stdout);
  }
  Deno.exit(0);
}
for (const stage of [only]) {
  const server = serve(stage);
  const m0 = await settle();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--client",
      stage,
      String(server.port),
      String(count),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("ready")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`client for ${stage} ended early`);
    out += value;
  }
  await new Promise((r) => setTimeout(r, 500));
  const m1 = await settle();
  const per = (a: number, b: number) => ((b - a) / 1024 / count).toFixed(2);
  console.log(
    `| ${stage} | ${count} | ${per(m0.rss, m1.rss)} | ${per(m0.heapUsed, m1.heapUsed)} | ${
      per(m0.external, m1.external)
    } |`,
  );
  await child.stdin.close();
  await child.status;
  await reader.cancel().catch(() => {});
  await server.stop();
  await new Promise((r) => setTimeout(r, 300));
}
Deno.exit(0);
