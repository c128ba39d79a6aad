/**
 * Reconnect-storm load process: `count` clients of our SDK (`RealtimeClient`: full-jitter
 * backoff, re-subscribe with `since`, duplicate suppression) subscribe to one channel and
 * record every `seq` they receive. Lines on stdout:
 *
 * - `{"ready": n}` when every client is subscribed;
 * - `{"dropped": n}` when every client has seen its socket close (the server went down);
 * - the result once every client holds seqs 0..expected-1 exactly once, or the time limit:
 *   per client the time from the drop to its complete sequence, and how many recovered.
 *
 *   deno run -A bench/storm.ts '{"url":…,"token":…,"channel":…,"count":1000,"expected":40,"timeoutMs":60000}'
 */
import process from "node:process";
import { RealtimeClient } from "../lib/client/client.ts";

interface StormSpec {
  url: string;
  token: string;
  channel: string;
  count: number;
  expected: number;
  timeoutMs: number;
}

type DenoWebSocketConstructor = new (url: string, options: { headers?: HeadersInit }) => WebSocket;

const spec: StormSpec = JSON.parse(Deno.args[0]);
const cpu0 = process.cpuUsage();
let subscribed = 0;
let dropped = 0;
let complete = 0;
let recoveredTrue = 0;
let recoveredFalse = 0;
let duplicatesOrGaps = 0;
let droppedAt = 0;
const completeMs: number[] = [];
const reconnectedMs: number[] = [];

const clients: RealtimeClient[] = [];
let finish: () => void = () => {};
const finished = new Promise<void>((r) => finish = r);

for (let i = 0; i < spec.count; i++) {
  const client = new RealtimeClient({
    url: spec.url,
    createSocket: (url) =>
      new (WebSocket as unknown as DenoWebSocketConstructor)(url, {
        headers: { authorization: `Bearer ${spec.token}` },
      }),
  });
  const seen: number[] = [];
  let first = true;
  let wasDropped = false;
  client.onStateChange(({ newState }) => {
    if (newState === "connected" && wasDropped) reconnectedMs.push(performance.now() - droppedAt);
    if (newState === "reconnecting" && !wasDropped) {
      wasDropped = true;
      if (++dropped === spec.count) {
        droppedAt = performance.now();
        console.log(JSON.stringify({ dropped }));
      }
    }
  });
  client.subscribe<{ seq: number }>(spec.channel, {
    onSubscribed({ recovered }) {
      if (first) {
        first = false;
        if (++subscribed === spec.count) console.log(JSON.stringify({ ready: subscribed }));
        return;
      }
      if (recovered) recoveredTrue++;
      else recoveredFalse++;
    },
    onMessage({ seq }) {
      if (seq !== seen.length) duplicatesOrGaps++;
      seen.push(seq);
      if (seen.length === spec.expected) {
        completeMs.push(performance.now() - (droppedAt || performance.now()));
        if (++complete === spec.count) finish();
      }
    },
  });
  client.connect();
  clients.push(client);
  if (i % 100 === 99) await new Promise((r) => setTimeout(r, 20));
}

const timer = setTimeout(finish, spec.timeoutMs);
await finished;
clearTimeout(timer);
completeMs.sort((a, b) => a - b);
const q = (p: number) =>
  completeMs.length
    ? Math.round(completeMs[Math.min(completeMs.length - 1, Math.floor(p * completeMs.length))])
    : null;
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({
  clients: spec.count,
  complete,
  recovered: recoveredTrue,
  notRecovered: recoveredFalse,
  duplicatesOrGaps,
  p50: q(0.5),
  p99: q(0.99),
  max: completeMs.length ? Math.round(completeMs.at(-1)!) : null,
  reconnectedP50: Math.round(
    reconnectedMs.sort((a, b) => a - b)[Math.floor(reconnectedMs.length / 2)] ?? 0,
  ),
  reconnectedP99: Math.round(reconnectedMs[Math.floor(reconnectedMs.length * 0.99)] ?? 0),
  cpuSeconds: (cpu.user + cpu.system) / 1e6,
}));
for (const c of clients) c.disconnect();
Deno.exit(0);
