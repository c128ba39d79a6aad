/**
 * Self-check of the bench peer servers (`raw_deno.ts`, `ws_server.mjs`,
 * `socketio_server.mjs`): starts each on port 0, subscribes 3 clients to a channel,
 * publishes 5 ticks over `POST /publish`, checks every client got seq 0..4, a bad token
 * is refused, `/stats` and `/gc` answer and SIGTERM ends the process. One line per server;
 * exit code 0 when all pass.
 *
 *   deno run -A bench/peers/smoke.ts
 */
import { ensurePeers } from "./install.ts";
import { sioConnect } from "./sio_client.ts";

const TOKEN = "smoke-token";
const CHANNEL = "smoke";
const TICKS = 5;
const PAD = 32;
const here = (file: string) => new URL(file, import.meta.url).pathname;

interface Peer {
  name: string;
  command: string[];
  sio: boolean;
}
const PEERS: Peer[] = [
  {
    name: "raw_deno",
    command: [Deno.execPath(), "run", "-A", "--v8-flags=--expose-gc", here("raw_deno.ts")],
    sio: false,
  },
  { name: "ws", command: ["node", "--expose-gc", here("ws_server.mjs")], sio: false },
  { name: "socketio", command: ["node", "--expose-gc", here("socketio_server.mjs")], sio: true },
];

function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timeout: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function assert(ok: unknown, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

async function start(peer: Peer): Promise<{ child: Deno.ChildProcess; port: number }> {
  const [cmd, ...args] = peer.command;
  const child = new Deno.Command(cmd, {
    args,
    env: { PORT: "0", TOKEN },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const port = await within(
    10_000,
    "LISTENING line",
    (async () => {
      for (;;) {
        const m = text.match(/^LISTENING (\d+)$/m);
        if (m) return Number(m[1]);
        const { value, done } = await reader.read();
        if (done) throw new Error(`exited before LISTENING: ${JSON.stringify(text)}`);
        text += value;
      }
    })(),
  );
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  return { child, port };
}

/** Status code of a raw WebSocket upgrade request for `path`. */
async function upgradeStatus(port: number, path: string): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
        `Sec-WebSocket-Version: 13\r\n\r\n`,
    ));
    const buf = new Uint8Array(256);
    const n = await conn.read(buf);
    return Number(new TextDecoder().decode(buf.subarray(0, n ?? 0)).split(" ")[1]);
  } finally {
    conn.close();
  }
}

interface Client {
  /** Resolves once subscribed (and, for raw/ws, once the ping got its pong). */
  ready: Promise<void>;
  seqs: number[];
  close(): void;
}

function checkMessage(channel: string, data: { seq: number; t: number; pad: string }): number {
  assert(channel === CHANNEL, `message on channel ${channel}`);
  assert(data.pad.length === PAD && Math.abs(Date.now() - data.t) < 5000, "bad data");
  return data.seq;
}

function jsonClient(port: number): Client {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${TOKEN}`);
  const seqs: number[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    let pending = 2; // pong + subscribed
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "ping" }));
      ws.send(JSON.stringify({ type: "subscribe", channel: CHANNEL }));
    };
    ws.onerror = () => reject(new Error("websocket error"));
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      if (msg.type === "message") seqs.push(checkMessage(msg.channel, msg.data));
      else if (msg.type === "pong" || msg.type === "subscribed" && msg.channel === CHANNEL) {
        if (--pending === 0) resolve();
      }
    };
  });
  return { ready, seqs, close: () => ws.close() };
}

function sioClient(port: number, token = TOKEN): Client {
  const seqs: number[] = [];
  let close = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    const sock = sioConnect(`ws://127.0.0.1:${port}`, token, {
      onOpen: () => sock.emit("subscribe", CHANNEL),
      onEvent(name, payload) {
        if (name === "subscribed" && JSON.parse(payload) === CHANNEL) resolve();
        if (name === "message") {
          const { channel, data } = JSON.parse(payload);
          seqs.push(checkMessage(channel, data));
        }
      },
      onError: reject,
    });
    close = () => sock.close();
  });
  return { ready, seqs, close: () => close() };
}

async function control(port: number, path: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert(res.ok, `${path}: HTTP ${res.status}`);
  return await res.json();
}

async function check(peer: Peer): Promise<string> {
  const { child, port } = await start(peer);
  const notes: string[] = [`port ${port}`];
  try {
    const clients = Array.from({ length: 3 }, () => peer.sio ? sioClient(port) : jsonClient(port));
    await within(5000, "subscribe", Promise.all(clients.map((c) => c.ready)));

    const stats = await control(port, "/stats");
    assert(stats.connections === 3, `stats.connections = ${stats.connections}`);
    assert(stats.rss > 0 && stats.cpuUserUs > 0 && stats.cpuSystemUs >= 0, "bad stats");
    const gc = await control(port, "/gc", {});
    assert(gc.ok === true && gc.gc === true, "gc not exposed");

    const rate = 50;
    const published = await control(port, "/publish", {
      channels: [CHANNEL],
      rate,
      ticks: TICKS,
      payloadBytes: PAD,
    });
    assert(published.ok === true, "publish not ok");
    await within(
      3000,
      "messages",
      (async () => {
        while (clients.some((c) => c.seqs.length < TICKS)) {
          await new Promise((r) => setTimeout(r, 5));
        }
      })(),
    );
    await new Promise((r) => setTimeout(r, 50)); // no extra messages trickling in
    for (const c of clients) {
      assert(c.seqs.join() === "0,1,2,3,4", `seqs ${c.seqs.join()}`);
    }
    notes.push(
      `3 clients × ${TICKS} msgs (seq 0..4) in ${published.ms.toFixed(1)} ms ` +
        `(ideal ${(TICKS - 1) * 1000 / rate})`,
    );
    notes.push(`rss ${(stats.rss / 2 ** 20).toFixed(1)} MB`);

    if (peer.sio) {
      const bad = sioClient(port, "wrong-token");
      const refused = await within(3000, "bad token", bad.ready.then(() => null, (e) => e));
      assert(
        refused instanceof Error && /unauthorized/.test(refused.message),
        "bad token accepted",
      );
      notes.push(`bad token refused (${refused.message})`);
    } else {
      const statuses = [
        await upgradeStatus(port, "/ws?token=wrong-token"),
        await upgradeStatus(port, "/ws"),
        await upgradeStatus(port, `/ws?token=${TOKEN}`),
      ];
      assert(statuses.join() === "401,401,101", `upgrade statuses ${statuses.join()}`);
      notes.push("bad/missing token → 401, good → 101");
    }
    for (const c of clients) c.close();
  } finally {
    const t0 = performance.now();
    child.kill("SIGTERM");
    const status = await within(3000, "exit on SIGTERM", child.status);
    notes.push(`SIGTERM exit ${status.code} in ${Math.round(performance.now() - t0)} ms`);
  }
  return notes.join(", ");
}

await ensurePeers();
let failed = false;
for (const peer of PEERS) {
  try {
    console.log(`ok   ${peer.name.padEnd(9)} ${await check(peer)}`);
  } catch (error) {
    failed = true;
    console.log(`FAIL ${peer.name.padEnd(9)} ${error instanceof Error ? error.message : error}`);
  }
}
Deno.exit(failed ? 1 : 0);
