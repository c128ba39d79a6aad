/**
 * Load-generator process: opens `count` WebSockets to `url`, subscribes each to
 * `channel`, counts messages and latency (from `data.t`, the publish time in ms since
 * the epoch), and prints one JSON line when `expected` messages per socket arrived or
 * `timeoutMs` passed. Minimal parsing on the receive path: only `t` is read.
 */
import process from "node:process";
const [url, channel, countArg, expectedArg, timeoutArg] = Deno.args;
const count = Number(countArg);
const expected = Number(expectedArg);
const timeoutMs = Number(timeoutArg ?? "60000");

const latencies: number[] = [];
let received = 0;
let done = 0;
let ready = 0;
const sockets: WebSocket[] = [];
const started = performance.now();
const cpuStart = process.cpuUsage();

await new Promise<void>((resolveAll) => {
  const finish = setTimeout(resolveAll, timeoutMs);
  for (let i = 0; i < count; i++) {
    const ws = new WebSocket(url);
    sockets.push(ws);
    let mine = 0;
    ws.onopen = () => ws.send(JSON.stringify({ type: "subscribe", channel }));
    ws.onmessage = (e) => {
      const text = e.data as string;
      if (text.startsWith('{"v":1,"type":"subscribed"')) {
        if (++ready === count) console.log(JSON.stringify({ ready: count }));
        return;
      }
      if (!text.startsWith('{"v":1,"type":"message"')) return;
      const at = text.indexOf('"t":');
      if (at >= 0) latencies.push(Date.now() - Number(text.slice(at + 4, text.indexOf("}", at))));
      received++;
      if (++mine === expected && ++done === count) {
        clearTimeout(finish);
        resolveAll();
      }
    };
  }
});

latencies.sort((a, b) => a - b);
const q = (p: number) =>
  latencies.length
    ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]
    : null;
const cpu = process.cpuUsage();
console.log(JSON.stringify({
  received,
  complete: done,
  seconds: (performance.now() - started) / 1000,
  p50: q(0.5),
  p99: q(0.99),
  max: latencies.at(-1) ?? null,
  cpuSeconds: cpu && cpuStart
    ? (cpu.user + cpu.system - cpuStart.user - cpuStart.system) / 1e6
    : null,
}));
for (const ws of sockets) ws.close();
Deno.exit(0);
