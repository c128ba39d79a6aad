/**
 * Quick fan-out benchmark of the gateway hub on real sockets (loopback only):
 * N subscribers on one channel in separate load-generator processes, a publisher at a
 * fixed rate in the server process. Reports deliveries/s, latency and CPU of both sides.
 *
 *   deno task bench:hub                  # defaults below
 *   deno run -A bench/fanout.ts 2000 20 400   # subscribers, messages/s, messages
 */
import process from "node:process";
import { Hub } from "../lib/gateway/mod.ts";
import { serveHub } from "../lib/gateway/_serve_hub.ts";
import { anonymous } from "../lib/gateway/_test_util.ts";

const subscribers = Number(Deno.args[0] ?? 1000);
const rate = Number(Deno.args[1] ?? 50);
const messages = Number(Deno.args[2] ?? 500);
const processes = Math.min(4, Math.max(1, Math.ceil(subscribers / 1000)));
const channel = "bench:fanout";

const hub = new Hub({
  serverId: "bench",
  namespaces: {
    bench: {
      subscribe: "public",
      publish: "none",
      mode: "ordered",
      presence: false,
      history: { size: 1, ttlMs: 1 },
    },
  },
  limits: { maxConnectionsPerIp: 1e6, upgradesPerSecondPerIp: 1e6, upgradesPerSecond: 1e6 },
});
hub.start();
const served = serveHub(hub, anonymous());
const url = served.url;

const per = Math.ceil(subscribers / processes);
const children = Array.from({ length: processes }, (_, i) => {
  const n = Math.min(per, subscribers - i * per);
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./loadgen.ts", import.meta.url).pathname,
      JSON.stringify({
        url,
        protocol: "json",
        token: "",
        tokenIn: "query",
        count: n,
        channels: [[channel]],
        timeoutMs: 120_000,
        concurrency: 200,
        mode: "fanout",
      }),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
});
const lines = children.map((child) =>
  child.stdout.pipeThrough(new TextDecoderStream()).getReader()
);
const writers = children.map((child) => child.stdin.getWriter());
const command = (cmd: unknown) =>
  Promise.all(writers.map((w) => w.write(new TextEncoder().encode(JSON.stringify(cmd) + "\n"))));
async function nextLine(
  reader: ReadableStreamDefaultReader<string>,
  buffer: { text: string },
): Promise<string> {
  for (;;) {
    const nl = buffer.text.indexOf("\n");
    if (nl >= 0) {
      const line = buffer.text.slice(0, nl);
      buffer.text = buffer.text.slice(nl + 1);
      return line;
    }
    const { value, done } = await reader.read();
    if (done) return buffer.text;
    buffer.text += value;
  }
}
const buffers = lines.map(() => ({ text: "" }));
await Promise.all(lines.map((r, i) => nextLine(r, buffers[i])));

// Open loop (bench/README.md): message n is due at startAt + n / rate; latency is charged
// from that time.
const startAt = Date.now() + 200;
await command({ cmd: "step", startAt, rate, ticks: messages, channels: 1 });
const cpu0 = process.cpuUsage();
const t0 = performance.now() + (startAt - Date.now());
let sent = 0;
await new Promise<void>((resolve) => {
  const interval = 1000 / rate;
  const tick = () => {
    const due = Math.min(messages, Math.floor((performance.now() - t0) / interval) + 1);
    while (sent < due) {
      hub.deliver(channel, { k: 0, seq: sent, t: startAt + sent * interval });
      sent++;
    }
    if (sent >= messages) return resolve();
    setTimeout(tick, Math.max(0, t0 + sent * interval - performance.now()));
  };
  setTimeout(tick, Math.max(0, t0 - performance.now()));
});
// Each load process says "complete" once every socket holds the last message.
await Promise.race([
  Promise.all(lines.map((r, i) => nextLine(r, buffers[i]))),
  new Promise((r) => setTimeout(r, 60_000)),
]);
await command({ cmd: "end" });
const results = (await Promise.all(lines.map((r, i) => nextLine(r, buffers[i])))).map((l) =>
  JSON.parse(l)
);
const elapsed = Math.max(...results.map((r) => (r.lastAt ?? Date.now()) - startAt)) / 1000;
const cpu1 = process.cpuUsage();
const received = results.reduce((a, r) => a + r.received, 0);
const expected = subscribers * messages;
const row = {
  subscribers,
  rateHz: rate,
  messages,
  deliveries: received,
  lost: expected - received,
  seconds: Number(elapsed.toFixed(2)),
  deliveriesPerSecond: Math.round(received / elapsed),
  p50ms: Math.max(...results.map((r) => r.p50 ?? 0)),
  p99ms: Math.max(...results.map((r) => r.p99 ?? 0)),
  maxMs: Math.max(...results.map((r) => r.max ?? 0)),
  serverCpu: Number(
    ((cpu1.user + cpu1.system - cpu0.user - cpu0.system) / 1e6 / elapsed).toFixed(2),
  ),
  loadCpu: Number((results.reduce((a, r) => a + (r.cpuSeconds ?? 0), 0) / elapsed).toFixed(2)),
};
console.log(JSON.stringify(row));
for (const w of writers) await w.close();
await Promise.all(children.map((c) => c.status));
hub.closeAll(1000, "bench over");
hub.stop();
await served.close();
