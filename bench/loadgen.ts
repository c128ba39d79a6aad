/**
 * Load-generator process for the benchmark harness (`bench/harness.ts`). One process opens
 * many WebSockets to one server — its own minimal client over `Deno.connect` (RFC 6455
 * framing, masked client frames; engine.io v4 framing for Socket.IO), so a read carries every
 * frame that arrived and a message costs a byte scan, not a runtime event — and talks to the
 * harness in JSON lines:
 *
 * - stdout `{"ready": n, "openMs", "failed"}` once every socket is open and subscribed;
 * - stdin `{"cmd":"step","startAt","rate","ticks","channels"}`: a measured step begins. The
 *   server publishes tick k of channel c at `startAt + (k + stagger(c)) * 1000/rate` (ms since
 *   the epoch: the *scheduled* time) with `data = {"k":c,"seq":k,…}`; a value's latency is its
 *   receive time minus that scheduled time (no coordinated omission: a server that falls
 *   behind its schedule is charged for it). Every 100 ms the age of each subscription is
 *   sampled: 0 while it holds the newest value due, else the time since a newer value was due;
 * - stdout `{"event":"complete"}` once every subscription holds its channel's last value;
 * - stdin `{"cmd":"end"}`: stdout gets the step's result ({@linkcode StepResult});
 * - stdin closed: the sockets close and the process exits.
 *
 * Modes: `fanout` (subscribe, then steps), `connect` (open `count` sockets, print one result,
 * exit), `idle` (open, print ready, hold until stdin closes).
 *
 *   deno run -A bench/loadgen.ts '<json LoadSpec>'   # or @file.json
 */
import process from "node:process";
import { staggerOf } from "./peers/_common.mjs";

/** What one load process does. */
export interface LoadSpec {
  /** `ws://host:port/path` (for `sio`, the server origin). */
  url: string;
  /** `json`: our protocol and the raw / ws peers; `sio`: Socket.IO (engine.io v4). */
  protocol: "json" | "sio";
  /** How the token travels: query `?token=`, `Authorization` header, or Socket.IO auth. */
  token: string;
  tokenIn: "query" | "header" | "sio";
  /**
   * `Sec-WebSocket-Protocol` to offer. A `….batch` subprotocol means a text frame may hold
   * several messages separated by line feeds (docs/PROTOCOL.md, "Batched frames").
   */
  subprotocol?: string;
  /** Sockets to open. */
  count: number;
  /** Channels socket i subscribes to: `channels[i % channels.length]` (empty = none). */
  channels: string[][];
  /** Give up opening after this long (ms). */
  timeoutMs: number;
  /** Sockets opening at once at most. */
  concurrency: number;
  mode: "fanout" | "connect" | "idle";
}

/** One step's figures, as printed for `{"cmd":"end"}`. */
export interface StepResult {
  /** Values received in this step (a value = one message on one subscription). */
  received: number;
  /** Values published to this process's subscriptions (subscriptions × ticks). */
  expected: number;
  /** Subscriptions holding their channel's last value. */
  finals: number;
  subscriptions: number;
  /** Values received twice or out of order (a value older than the one held). */
  outOfOrder: number;
  /** Messages of an earlier step that arrived during this one (ignored). */
  stale: number;
  /** Latency percentiles and maximum, ms (receive − scheduled time). */
  p50: number | null;
  p99: number | null;
  max: number | null;
  /** Age of the value held (see the module doc), sampled every 100 ms while publishing, ms. */
  ageP50: number | null;
  ageP99: number | null;
  ageMax: number | null;
  ageSamples: number;
  /** Last receive time (ms since the epoch), or null. */
  lastAt: number | null;
  /** CPU of this process during the step, seconds; and the step's wall time, seconds. */
  cpuSeconds: number;
  wallSeconds: number;
}

// The spec, or `@file` holding it.
const spec: LoadSpec = JSON.parse(
  Deno.args[0].startsWith("@") ? Deno.readTextFileSync(Deno.args[0].slice(1)) : Deno.args[0],
);
const url = new URL(spec.url);
const host = url.hostname;
const port = Number(url.port);
const enc = new TextEncoder();
const dec = new TextDecoder();

// ---- a millisecond histogram (bounded memory whatever the number of samples) -------------

const HIST_MS = 120_000;
class Histogram {
  counts = new Uint32Array(HIST_MS + 1);
  n = 0;
  max = 0;
  add(ms: number): void {
    const v = ms < 0 ? 0 : ms;
    const i = v > HIST_MS ? HIST_MS : Math.floor(v);
    this.counts[i]++;
    this.n++;
    if (v > this.max) this.max = v;
  }
  q(p: number): number | null {
    if (this.n === 0) return null;
    const target = Math.min(this.n, Math.floor(p * this.n) + 1);
    let seen = 0;
    for (let i = 0; i <= HIST_MS; i++) {
      seen += this.counts[i];
      if (seen >= target) return i;
    }
    return HIST_MS;
  }
  reset(): void {
    this.counts.fill(0);
    this.n = 0;
    this.max = 0;
  }
}

// ---- step state ---------------------------------------------------------------------------

/** Per subscription (socket × its channels): the seq of the value held this step (-1: none). */
let held = new Int32Array(0);
/** Subscription index of socket i's first channel. */
const subBase: number[] = [];
let subscriptions = 0;
const step = {
  active: false,
  startAt: 0,
  interval: 1,
  ticks: 0,
  channels: 1,
  groups: 1,
  received: 0,
  finals: 0,
  outOfOrder: 0,
  stale: 0,
  lastAt: 0,
  completeSent: false,
  cpu0: process.cpuUsage(),
  wall0: 0,
};
const latency = new Histogram();
const age = new Histogram();
let sampler: ReturnType<typeof setInterval> | undefined;

function dueOf(k: number, c: number): number {
  return step.startAt + (k + staggerOf(c, step.channels, step.groups)) * step.interval;
}

function sampleAges(): void {
  const now = Date.now();
  if (now < step.startAt || now > step.startAt + step.ticks * step.interval) return;
  for (let s = 0; s < socks.length; s++) {
    const sock = socks[s];
    for (let j = 0; j < sock.channelIdx.length; j++) {
      const next = held[subBase[s] + j] + 1;
      if (next >= step.ticks) {
        age.add(0);
        continue;
      }
      const due = dueOf(next, sock.channelIdx[j]);
      age.add(now > due ? now - due : 0);
    }
  }
}

/** One value arrived on socket `s`: channel index `c`, tick `k`, at `now`. */
function onValue(s: number, c: number, k: number, now: number): void {
  if (!step.active) return;
  const sock = socks[s];
  const j = sock.channelIdx.indexOf(c);
  if (j < 0) return;
  const due = dueOf(k, c);
  if (due < step.startAt - 1) {
    step.stale++;
    return;
  }
  const at = subBase[s] + j;
  if (k <= held[at]) {
    step.outOfOrder++;
    return;
  }
  held[at] = k;
  step.received++;
  step.lastAt = now;
  latency.add(now - due);
  if (k === step.ticks - 1 && ++step.finals === subscriptions && !step.completeSent) {
    step.completeSent = true;
    console.log(JSON.stringify({ event: "complete" }));
  }
}

// ---- byte scanning ------------------------------------------------------------------------

const K = enc.encode('"k":');
const LF = 0x0a;
const batched = spec.subprotocol?.endsWith(".batch") ?? false;
const SEQ = enc.encode('"seq":');

function find(buf: Uint8Array, from: number, to: number, pat: Uint8Array): number {
  const first = pat[0];
  const last = to - pat.length;
  outer: for (let i = from; i <= last; i++) {
    if (buf[i] !== first) continue;
    for (let j = 1; j < pat.length; j++) if (buf[i + j] !== pat[j]) continue outer;
    return i + pat.length;
  }
  return -1;
}

function intAt(buf: Uint8Array, at: number): number {
  let n = 0;
  for (let i = at; i < buf.length; i++) {
    const c = buf[i];
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  return n;
}

// ---- the client ---------------------------------------------------------------------------

interface Sock {
  conn: Deno.TcpConn;
  channelIdx: number[];
  channels: string[];
  open: boolean;
  closed: boolean;
}
const socks: Sock[] = [];
/** Channel name → index in the schedule (`k` in the payload). */
const channelIndex = new Map<string, number>();

function channelsOf(i: number): string[] {
  return spec.channels.length === 0 ? [] : spec.channels[i % spec.channels.length];
}

/** A masked client frame (opcode 1 text, 10 pong, 8 close). */
function clientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const len = payload.length;
  const head = len < 126 ? 2 : 4;
  const out = new Uint8Array(head + 4 + len);
  out[0] = 0x80 | opcode;
  if (len < 126) out[1] = 0x80 | len;
  else {
    out[1] = 0x80 | 126;
    out[2] = len >> 8;
    out[3] = len & 0xff;
  }
  const mask = crypto.getRandomValues(new Uint8Array(4));
  out.set(mask, head);
  for (let i = 0; i < len; i++) out[head + 4 + i] = payload[i] ^ mask[i & 3];
  return out;
}

const writeQueues = new WeakMap<Deno.TcpConn, Promise<void>>();
function sendText(conn: Deno.TcpConn, text: string): void {
  sendFrame(conn, clientFrame(1, enc.encode(text)));
}
function sendFrame(conn: Deno.TcpConn, frame: Uint8Array): void {
  const prev = writeQueues.get(conn) ?? Promise.resolve();
  writeQueues.set(
    conn,
    prev.then(async () => {
      let at = 0;
      while (at < frame.length) at += await conn.write(frame.subarray(at));
    }).catch(() => {}),
  );
}

function request(): string {
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  let path = url.pathname + url.search;
  const headers = [`Host: ${url.host}`, "Upgrade: websocket", "Connection: Upgrade"];
  headers.push(`Sec-WebSocket-Key: ${key}`, "Sec-WebSocket-Version: 13");
  if (spec.subprotocol) headers.push(`Sec-WebSocket-Protocol: ${spec.subprotocol}`);
  if (spec.protocol === "sio") path = "/socket.io/?EIO=4&transport=websocket";
  else if (spec.tokenIn === "query") {
    path += `${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(spec.token)}`;
  } else if (spec.tokenIn === "header") headers.push(`Authorization: Bearer ${spec.token}`);
  return `GET ${path} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n`;
}

let subscribedTotal = 0;
let opened = 0;
let failed = 0;

/**
 * Opens socket `i`: handshake, (Socket.IO: namespace connect with the token), subscribes.
 * Resolves once subscribed (or open, for no channels), or failed.
 */
function openOne(i: number): Promise<void> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      if (!ok) failed++;
      resolve();
    };
    run(i, done).catch(() => done(false));
  });
}

async function run(i: number, done: (ok: boolean) => void): Promise<void> {
  const conn = await Deno.connect({ hostname: host, port });
  const channels = channelsOf(i);
  const sock: Sock = {
    conn,
    channels,
    channelIdx: channels.map((c) => channelIndex.get(c)!),
    open: false,
    closed: false,
  };
  const s = socks.length;
  socks.push(sock);
  subBase.push(subscriptions);
  subscriptions += channels.length;
  await conn.write(enc.encode(request()));
  let buf = new Uint8Array(16 * 1024);
  let len = 0;
  // Handshake response.
  for (;;) {
    if (len === buf.length) throw new Error("handshake response too large");
    const n = await conn.read(buf.subarray(len));
    if (n === null) throw new Error("closed during handshake");
    len += n;
    const end = find(buf, 0, len, enc.encode("\r\n\r\n"));
    if (end < 0) continue;
    const status = dec.decode(buf.subarray(0, 12));
    if (!status.startsWith("HTTP/1.1 101")) throw new Error(`refused: ${status}`);
    buf.copyWithin(0, end, len);
    len -= end;
    break;
  }
  let acks = 0;
  const subscribe = () => {
    sock.open = true;
    opened++;
    for (const channel of channels) {
      if (spec.protocol === "sio") sendText(conn, `42${JSON.stringify(["subscribe", channel])}`);
      else sendText(conn, JSON.stringify({ type: "subscribe", channel }));
    }
    if (channels.length === 0) done(true);
  };
  if (spec.protocol === "json") subscribe();
  const onControl = (text: string) => {
    if (spec.protocol === "sio") {
      if (text === "2") return sendText(conn, "3");
      if (text.startsWith("0{")) {
        return sendText(conn, `40${JSON.stringify({ token: spec.token })}`);
      }
      if (text.startsWith("40")) return subscribe();
      if (text.startsWith("44")) throw new Error("socket.io refused");
      if (text.startsWith('42["subscribed"')) {
        subscribedTotal++;
        if (++acks === channels.length) done(true);
      }
      return;
    }
    const head = text.slice(0, 48);
    if (head.includes('"type":"subscribed"')) {
      subscribedTotal++;
      if (++acks === channels.length) done(true);
    } else if (head.includes('"type":"ping"')) sendText(conn, '{"type":"pong"}');
    else if (head.includes('"type":"error"')) console.error("loadgen: server error", text);
  };
  // Frame loop: every complete frame in the buffer, then read more.
  for (;;) {
    let at = 0;
    const now = Date.now();
    while (len - at >= 2) {
      const b0 = buf[at];
      const b1 = buf[at + 1] & 0x7f;
      let head = 2;
      let size = b1;
      if (b1 === 126) {
        if (len - at < 4) break;
        size = (buf[at + 2] << 8) | buf[at + 3];
        head = 4;
      } else if (b1 === 127) {
        if (len - at < 10) break;
        size = Number(new DataView(buf.buffer, buf.byteOffset + at + 2, 8).getBigUint64(0));
        head = 10;
      }
      if (len - at < head + size) {
        if (head + size > buf.length) {
          const bigger = new Uint8Array(head + size + 4096);
          bigger.set(buf.subarray(at, len));
          buf = bigger;
          len -= at;
          at = 0;
        }
        break;
      }
      const start = at + head;
      const end = start + size;
      const opcode = b0 & 0x0f;
      at = end;
      if (opcode === 1 || opcode === 2) {
        // A batched frame: messages separated by line feeds, each scanned on its own.
        for (let from = start; from < end;) {
          let to = batched ? buf.subarray(from, end).indexOf(LF) : -1;
          to = to < 0 ? end : from + to;
          const seqAt = find(buf, from, to, SEQ);
          if (seqAt >= 0) {
            const kAt = find(buf, from, seqAt, K);
            onValue(s, kAt >= 0 ? intAt(buf, kAt) : 0, intAt(buf, seqAt), now);
          } else onControl(dec.decode(buf.subarray(from, to)));
          from = to + 1;
        }
      } else if (opcode === 9) sendFrame(conn, clientFrame(10, buf.slice(start, end)));
      else if (opcode === 8) {
        sock.closed = true;
        return done(false);
      }
    }
    if (at > 0) {
      buf.copyWithin(0, at, len);
      len -= at;
    }
    const n = await conn.read(buf.subarray(len));
    if (n === null) {
      sock.closed = true;
      if (!sock.open) throw new Error("closed before open");
      return done(false);
    }
    len += n;
  }
}

async function openAll(): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(spec.concurrency, spec.count) }, async () => {
    while (next < spec.count) await openOne(next++);
  }));
}

// Channel indices: the order of first appearance in the plan is the publisher's order
// (the harness passes the same list to the server's /publish).
for (const list of spec.channels) {
  for (const c of list) if (!channelIndex.has(c)) channelIndex.set(c, channelIndex.size);
}

const started = performance.now();
const cpuStart = process.cpuUsage();
const openTimer = setTimeout(() => {
  console.log(JSON.stringify({ error: `not open within ${spec.timeoutMs} ms`, opened, failed }));
  Deno.exit(2);
}, spec.timeoutMs);
await openAll();
clearTimeout(openTimer);
const openMs = performance.now() - started;
held = new Int32Array(subscriptions).fill(-1);

if (spec.mode === "connect") {
  const cpu = process.cpuUsage(cpuStart);
  console.log(JSON.stringify({
    opened,
    failed,
    openMs: Math.round(openMs),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  }));
  for (const s of socks) s.conn.close();
  Deno.exit(0);
}
console.log(
  JSON.stringify({
    ready: opened,
    openMs: Math.round(openMs),
    failed,
    subscribed: subscribedTotal,
  }),
);

function startStep(
  cmd: { startAt: number; rate: number; ticks: number; channels: number; groups?: number },
): void {
  held.fill(-1);
  Object.assign(step, {
    active: true,
    startAt: cmd.startAt,
    interval: 1000 / cmd.rate,
    ticks: cmd.ticks,
    channels: Math.max(1, cmd.channels),
    groups: cmd.groups ?? Math.max(1, cmd.channels),
    received: 0,
    finals: 0,
    outOfOrder: 0,
    stale: 0,
    lastAt: 0,
    completeSent: false,
    cpu0: process.cpuUsage(),
    wall0: performance.now(),
  });
  latency.reset();
  age.reset();
  sampler = setInterval(sampleAges, 100);
}

function endStep(): StepResult {
  clearInterval(sampler);
  step.active = false;
  const cpu = process.cpuUsage(step.cpu0);
  return {
    received: step.received,
    expected: subscriptions * step.ticks,
    finals: step.finals,
    subscriptions,
    outOfOrder: step.outOfOrder,
    stale: step.stale,
    p50: latency.q(0.5),
    p99: latency.q(0.99),
    max: latency.n ? Math.round(latency.max) : null,
    ageP50: age.q(0.5),
    ageP99: age.q(0.99),
    ageMax: age.n ? Math.round(age.max) : null,
    ageSamples: age.n,
    lastAt: step.lastAt || null,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    wallSeconds: (performance.now() - step.wall0) / 1000,
  };
}

// Commands from the harness, one JSON object a line.
let pendingText = "";
for await (const chunk of Deno.stdin.readable) {
  pendingText += dec.decode(chunk, { stream: true });
  for (let nl = pendingText.indexOf("\n"); nl >= 0; nl = pendingText.indexOf("\n")) {
    const line = pendingText.slice(0, nl).trim();
    pendingText = pendingText.slice(nl + 1);
    if (!line) continue;
    const cmd = JSON.parse(line);
    if (cmd.cmd === "step") startStep(cmd);
    else if (cmd.cmd === "end") console.log(JSON.stringify(endStep()));
  }
}
for (const s of socks) {
  try {
    s.conn.close();
  } catch { /* closed */ }
}
Deno.exit(0);
