/**
 * Load-generator process for the benchmark harness (`bench/harness.ts`). One process
 * opens many WebSockets to one server and reports JSON lines on stdout:
 *
 * - `{"ready": n, "openMs": …}` once every socket is open and subscribed,
 * - a final result line when every socket received `expected` messages, the time limit
 *   passed, or (idle mode) stdin closed.
 *
 * The receive path parses as little as possible: it looks for `"t":` (the publish time in
 * the payload) and the message marker; it never JSON-parses a data message.
 *
 *   deno run -A bench/loadgen.ts '<json LoadSpec>'
 */
import process from "node:process";
import { sioConnect } from "./peers/sio_client.ts";

/** What one load process does. */
export interface LoadSpec {
  /** `ws://…` URL (for `sio`, the server origin `ws://host:port`). */
  url: string;
  /** `json`: our protocol and the raw / ws peers; `sio`: Socket.IO (engine.io v4). */
  protocol: "json" | "sio";
  /** How the token travels: query `?token=`, `Authorization` header, or Socket.IO auth. */
  token: string;
  tokenIn: "query" | "header" | "sio";
  /** Sockets to open. */
  count: number;
  /** Channels each socket subscribes to, by socket index (empty = none). */
  channels: string[][] | string[];
  /** Messages each socket should receive before the result is printed (0 = don't wait). */
  expected: number;
  /** Give up after this long (ms). */
  timeoutMs: number;
  /** Sockets opening at once at most. */
  concurrency: number;
  /** `fanout`: wait for messages; `connect`: report once all are open; `idle`: hold until stdin closes. */
  mode: "fanout" | "connect" | "idle";
}

const spec: LoadSpec = JSON.parse(Deno.args[0]);
const started = performance.now();
const cpu0 = process.cpuUsage();

interface Sock {
  send(text: string): void;
  close(): void;
}

type DenoWebSocketConstructor = new (
  url: string,
  options: { headers?: HeadersInit },
) => WebSocket;

const latencies: number[] = [];
let received = 0;
let complete = 0;
let opened = 0;
let failed = 0;
let subscribed = 0;
const sockets: Sock[] = [];
let finish: () => void = () => {};
const finished = new Promise<void>((resolve) => finish = resolve);

function channelsOf(i: number): string[] {
  const c = spec.channels[i % spec.channels.length];
  return c === undefined ? [] : Array.isArray(c) ? c : [c];
}

function onData(text: string, counter: { n: number }): void {
  const at = text.indexOf('"t":');
  if (at < 0) return;
  let end = at + 4;
  while (end < text.length && text.charCodeAt(end) >= 48 && text.charCodeAt(end) <= 57) end++;
  latencies.push(Date.now() - Number(text.slice(at + 4, end)));
  received++;
  if (++counter.n === spec.expected && ++complete === spec.count) finish();
}

function subscribedOne(): void {
  if (++subscribed === spec.count * Math.max(1, channelsOf(0).length) && spec.mode === "fanout") {
    console.log(
      JSON.stringify({ ready: spec.count, openMs: Math.round(performance.now() - started) }),
    );
  }
}

function openJson(i: number): Promise<void> {
  return new Promise((resolve) => {
    const url = spec.tokenIn === "query"
      ? `${spec.url}?token=${encodeURIComponent(spec.token)}`
      : spec.url;
    const ws = spec.tokenIn === "header"
      ? new (WebSocket as unknown as DenoWebSocketConstructor)(url, {
        headers: { authorization: `Bearer ${spec.token}` },
      })
      : new WebSocket(url);
    const counter = { n: 0 };
    const channels = channelsOf(i);
    ws.onopen = () => {
      opened++;
      sockets.push(ws);
      for (const channel of channels) ws.send(JSON.stringify({ type: "subscribe", channel }));
      if (channels.length === 0) resolve();
    };
    ws.onerror = () => {
      failed++;
      resolve();
    };
    ws.onmessage = (e) => {
      const text = e.data as string;
      // Our gateway prefixes `{"v":1,`; the peers start with `{"type":`.
      const head = text.slice(0, 40);
      if (head.includes('"type":"message"')) return onData(text, counter);
      if (head.includes('"type":"subscribed"')) {
        subscribedOne();
        if (++counter.n >= channels.length) {
          counter.n = 0;
          resolve();
        }
      } else if (head.includes('"type":"ping"')) ws.send('{"type":"pong"}');
    };
  });
}

async function openSio(i: number): Promise<void> {
  const counter = { n: 0 };
  const channels = channelsOf(i);
  let subs = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const sock = sioConnect(spec.url, spec.token, {
        onEvent(name, payloadText) {
          if (name === "message") return onData(payloadText, counter);
          if (name === "subscribed") {
            subscribedOne();
            if (++subs >= channels.length) resolve();
          }
        },
        onOpen() {
          opened++;
          sockets.push(sock);
          for (const channel of channels) sock.emit("subscribe", channel);
          if (channels.length === 0) resolve();
        },
        onError: reject,
      });
    });
  } catch {
    failed++;
  }
}

async function openAll(): Promise<void> {
  let next = 0;
  const open = spec.protocol === "sio" ? openSio : openJson;
  await Promise.all(Array.from({ length: Math.min(spec.concurrency, spec.count) }, async () => {
    while (next < spec.count) await open(next++);
  }));
}

await openAll();
const openMs = performance.now() - started;
if (spec.mode === "connect") {
  finish();
} else if (spec.mode === "idle") {
  console.log(JSON.stringify({ ready: opened, openMs: Math.round(openMs), failed }));
  // Hold the sockets until the harness closes our stdin.
  (async () => {
    for await (const _ of Deno.stdin.readable) { /* drain */ }
    finish();
  })();
} else if (spec.channels.length === 0 || spec.expected === 0) {
  finish();
}
const timer = setTimeout(finish, spec.timeoutMs);
await finished;
clearTimeout(timer);

latencies.sort((a, b) => a - b);
const q = (p: number) =>
  latencies.length
    ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]
    : null;
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({
  opened,
  failed,
  openMs: Math.round(openMs),
  received,
  complete,
  seconds: (performance.now() - started) / 1000,
  p50: q(0.5),
  p99: q(0.99),
  max: latencies.at(-1) ?? null,
  cpuSeconds: (cpu.user + cpu.system) / 1e6,
}));
for (const s of sockets) s.close();
Deno.exit(0);
