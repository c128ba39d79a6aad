/**
 * The benchmark harness: our gateway side by side with a raw Deno server, `ws` on Node and
 * Socket.IO on Node, same load generator, same machine, one run (`deno task bench`).
 * Loopback only; every loop is bounded; writes bench/results/latest.json and prints a
 * Markdown table per scenario.
 *
 *   deno run -A bench/harness.ts [scenario …]   # fanout, board, connect, idle, isolates
 */
import { SignJWT } from "jose";
import { ensurePeers } from "./peers/install.ts";

type ServerName = "raw-deno" | "ws-node" | "socketio-node" | "gateway" | "gateway-2x";

interface ServerDef {
  name: ServerName;
  command: string[];
  env?: Record<string, string>;
  protocol: "json" | "sio";
  tokenIn: "query" | "header" | "sio";
  /** Channel name for a logical channel. */
  channel: (name: string) => string;
  /** WebSocket URL from the port. */
  url: (port: number) => string;
}

const DENO = Deno.execPath();
const SECRET = "bench-secret-bench-secret-bench-secret!!";
const PEER_TOKEN = "bench-token";
const root = new URL("../", import.meta.url);
const tmp = await Deno.makeTempDir();

const SERVERS: ServerDef[] = [
  {
    name: "raw-deno",
    command: [DENO, "run", "-A", "--v8-flags=--expose-gc", "bench/peers/raw_deno.ts"],
    protocol: "json",
    tokenIn: "query",
    channel: (n) => n,
    url: (p) => `ws://127.0.0.1:${p}/ws`,
  },
  {
    name: "ws-node",
    command: ["node", "--expose-gc", "bench/peers/ws_server.mjs"],
    protocol: "json",
    tokenIn: "query",
    channel: (n) => n,
    url: (p) => `ws://127.0.0.1:${p}/ws`,
  },
  {
    name: "socketio-node",
    command: ["node", "--expose-gc", "bench/peers/socketio_server.mjs"],
    protocol: "sio",
    tokenIn: "sio",
    channel: (n) => n,
    url: (p) => `ws://127.0.0.1:${p}`,
  },
  {
    name: "gateway",
    command: [
      DENO,
      "serve",
      "-A",
      "--v8-flags=--expose-gc",
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "bench/peers/gateway.ts",
    ],
    env: { DENO_JOBS: "1" },
    protocol: "json",
    tokenIn: "header",
    channel: (n) => `bench:${n}`,
    url: (p) => `ws://127.0.0.1:${p}/ws`,
  },
];
const GATEWAY_2X: ServerDef = {
  ...SERVERS[3],
  name: "gateway-2x",
  command: [...SERVERS[3].command.slice(0, 3), "--parallel", ...SERVERS[3].command.slice(3)],
  env: { DENO_JOBS: "2" },
};

interface Running {
  def: ServerDef;
  port: number;
  child: Deno.ChildProcess;
  stop(): Promise<void>;
}

async function startServer(
  def: ServerDef,
  options: { port?: number; kvPath?: string } = {},
): Promise<Running> {
  const args = def.command.slice(1);
  if (options.port !== undefined) {
    const i = args.indexOf("--port");
    if (i >= 0) args[i + 1] = String(options.port);
  }
  const child = new Deno.Command(def.command[0], {
    args,
    cwd: root,
    env: {
      PORT: String(options.port ?? 0),
      TOKEN: PEER_TOKEN,
      TOKEN_SECRET: SECRET,
      KV_PATH: options.kvPath ?? `${tmp}/${def.name}-${crypto.randomUUID().slice(0, 6)}.kv`,
      ...def.env,
    },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  let found: (port: number) => void = () => {};
  const port = new Promise<number>((resolve) => found = resolve);
  const scan = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      const m = text.match(/LISTENING (\d+)|Listening on https?:\/\/[^:\s]+:(\d+)/);
      if (m) found(Number(m[1] ?? m[2]));
    }
  };
  const pumps = Promise.all([scan(child.stdout), scan(child.stderr)]);
  const timeout = new Promise<number>((_, reject) =>
    setTimeout(() => reject(new Error(`Cannot start ${def.name}:\n${text}`)), 30_000)
  );
  const p = await Promise.race([port, timeout]);
  return {
    def,
    port: p,
    child,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      const killer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }, 5_000);
      await child.status;
      clearTimeout(killer);
      await pumps.catch(() => {});
    },
  };
}

async function tokenFor(def: ServerDef): Promise<string> {
  if (def.tokenIn !== "header") return PEER_TOKEN;
  return await new SignJWT({ name: "bench", roles: ["user"] })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("bench-user")
    .setIssuer("realtime")
    .setAudience("realtime")
    .setIssuedAt()
    .setExpirationTime("2h")
    .sign(new TextEncoder().encode(SECRET));
}

interface LoadResult {
  opened: number;
  failed: number;
  openMs: number;
  received: number;
  complete: number;
  seconds: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
  cpuSeconds: number;
}

/** Starts `processes` load generators; resolves once all print `ready`. */
async function startLoad(
  spec: Record<string, unknown>,
  processes: number,
): Promise<{ results: Promise<LoadResult[]>; close(): void }> {
  const count = spec.count as number;
  const per = Math.ceil(count / processes);
  const children = Array.from({ length: processes }, (_, i) => {
    const n = Math.min(per, count - i * per);
    return new Deno.Command(DENO, {
      args: ["run", "-A", "bench/loadgen.ts", JSON.stringify({ ...spec, count: n })],
      cwd: root,
      stdout: "piped",
      stderr: "inherit",
      stdin: "piped",
    }).spawn();
  });
  const readers = children.map((c) => c.stdout.pipeThrough(new TextDecoderStream()).getReader());
  const buffers = children.map(() => "");
  async function line(i: number): Promise<string> {
    for (;;) {
      const nl = buffers[i].indexOf("\n");
      if (nl >= 0) {
        const l = buffers[i].slice(0, nl);
        buffers[i] = buffers[i].slice(nl + 1);
        return l;
      }
      const { value, done } = await readers[i].read();
      if (done) return buffers[i];
      buffers[i] += value;
    }
  }
  if (spec.mode !== "connect") await Promise.all(children.map((_, i) => line(i)));
  const results = Promise.all(children.map(async (c, i) => {
    const l = await line(i);
    await c.status;
    return JSON.parse(l) as LoadResult;
  }));
  return {
    results,
    close() {
      for (const c of children) c.stdin.close();
    },
  };
}

async function control(
  server: Running,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${server.port}${path}`, {
    method: body === undefined && path === "/stats" ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return await res.json();
}

async function cpuOf(server: Running): Promise<number> {
  const s = await control(server, "/stats");
  return ((s.cpuUserUs as number) + (s.cpuSystemUs as number)) / 1e6;
}

type Row = Record<string, string | number | null>;
const report: Record<string, Row[]> = {};

/** Runs one fan-out measurement against a started server. */
async function measureFanout(
  def: ServerDef,
  opts: { subscribers: number; rate: number; ticks: number; channels?: number; perConn?: number },
): Promise<Row> {
  const server = await startServer(def);
  try {
    const nChannels = opts.channels ?? 1;
    const perConn = opts.perConn ?? 1;
    const names = Array.from(
      { length: nChannels },
      (_, i) => def.channel(nChannels === 1 ? "fan" : `sym${i}`),
    );
    // Socket i subscribes to `perConn` consecutive channels (a board of 10 of 100 symbols).
    const plan = nChannels === 1
      ? [names[0]]
      : Array.from({ length: nChannels }, (_, i) =>
        Array.from({ length: perConn }, (_, k) => names[(i + k) % nChannels]));
    const processes = Math.max(1, Math.min(4, Math.ceil(opts.subscribers / 2_500)));
    const load = await startLoad({
      url: def.url(server.port),
      protocol: def.protocol,
      token: await tokenFor(def),
      tokenIn: def.tokenIn,
      count: opts.subscribers,
      channels: plan,
      expected: opts.ticks * perConn,
      timeoutMs: 90_000,
      concurrency: 200,
      mode: "fanout",
    }, processes);
    const cpu0 = await cpuOf(server);
    const t0 = performance.now();
    await control(server, "/publish", {
      channels: names,
      rate: opts.rate,
      ticks: opts.ticks,
      payloadBytes: 100,
    });
    const results = await load.results;
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = await cpuOf(server);
    const received = results.reduce((a, r) => a + r.received, 0);
    const expected = opts.subscribers * opts.ticks * perConn;
    return {
      server: def.name,
      subscribers: opts.subscribers,
      offeredPerSec: Math.round(opts.subscribers * perConn * opts.rate),
      deliveries: received,
      lost: expected - received,
      deliveriesPerSec: Math.round(received / seconds),
      p50ms: Math.max(...results.map((r) => r.p50 ?? 0)),
      p99ms: Math.max(...results.map((r) => r.p99 ?? 0)),
      maxMs: Math.max(...results.map((r) => r.max ?? 0)),
      serverCpu: Number(((cpu1 - cpu0) / seconds).toFixed(2)),
      loadCpu: Number((results.reduce((a, r) => a + r.cpuSeconds, 0) / seconds).toFixed(2)),
    };
  } finally {
    await server.stop();
  }
}

async function connectStorm(def: ServerDef, connections: number): Promise<Row> {
  const server = await startServer(def);
  try {
    const load = await startLoad({
      url: def.url(server.port),
      protocol: def.protocol,
      token: await tokenFor(def),
      tokenIn: def.tokenIn,
      count: connections,
      channels: [],
      expected: 0,
      timeoutMs: 60_000,
      concurrency: 250,
      mode: "connect",
    }, 2);
    const results = await load.results;
    const opened = results.reduce((a, r) => a + r.opened, 0);
    const ms = Math.max(...results.map((r) => r.openMs));
    return {
      server: def.name,
      connections,
      opened,
      failed: results.reduce((a, r) => a + r.failed, 0),
      seconds: Number((ms / 1000).toFixed(2)),
      connectionsPerSec: Math.round(opened / (ms / 1000)),
    };
  } finally {
    await server.stop();
  }
}

async function idleMemory(def: ServerDef, connections: number): Promise<Row> {
  const server = await startServer(def);
  try {
    await control(server, "/gc", {});
    await new Promise((r) => setTimeout(r, 300));
    const before = (await control(server, "/stats")).rss as number;
    const load = await startLoad({
      url: def.url(server.port),
      protocol: def.protocol,
      token: await tokenFor(def),
      tokenIn: def.tokenIn,
      count: connections,
      channels: [],
      expected: 0,
      timeoutMs: 120_000,
      concurrency: 250,
      mode: "idle",
    }, Math.max(1, Math.ceil(connections / 5_000)));
    await new Promise((r) => setTimeout(r, 1_000));
    await control(server, "/gc", {});
    await new Promise((r) => setTimeout(r, 500));
    const stats = await control(server, "/stats");
    load.close();
    await load.results;
    const after = stats.rss as number;
    return {
      server: def.name,
      connections: stats.connections as number,
      rssBeforeMB: Number((before / 2 ** 20).toFixed(1)),
      rssAfterMB: Number((after / 2 ** 20).toFixed(1)),
      kbPerConnection: Number(
        ((after - before) / 1024 / Math.max(1, stats.connections as number)).toFixed(2),
      ),
    };
  } finally {
    await server.stop();
  }
}

/**
 * Reconnect storm (our gateway only: the peers have no recovery): `clients` SDK clients
 * subscribed to one channel; 20 messages; the server restarts (SIGTERM, then a new process
 * on the same port and KV file); 20 more messages published at once after the restart,
 * while clients are still backing off. Every client must end with all 40, each once.
 */
async function reconnectStorm(def: ServerDef, clients: number): Promise<Row> {
  const kvPath = `${tmp}/storm.kv`;
  let server = await startServer(def, { kvPath });
  const port = server.port;
  const child = new Deno.Command(DENO, {
    args: [
      "run",
      "-A",
      "bench/storm.ts",
      JSON.stringify({
        url: def.url(port),
        token: await tokenFor(def),
        channel: def.channel("storm"),
        count: clients,
        expected: 40,
        timeoutMs: 90_000,
      }),
    ],
    cwd: root,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  async function line(): Promise<Record<string, unknown>> {
    for (;;) {
      const nl = buffer.indexOf("\n");
      if (nl >= 0) {
        const l = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        return JSON.parse(l);
      }
      const { value, done } = await reader.read();
      if (done) throw new Error("Cannot run the storm: the load process ended early");
      buffer += value;
    }
  }
  try {
    await line(); // ready
    await control(server, "/publish", {
      channels: [def.channel("storm")],
      rate: 40,
      ticks: 20,
      payloadBytes: 100,
    });
    await new Promise((r) => setTimeout(r, 500));
    await server.stop();
    await line(); // dropped
    const restartAt = performance.now();
    server = await startServer(def, { port, kvPath });
    const restartMs = Math.round(performance.now() - restartAt);
    await control(server, "/publish", {
      channels: [def.channel("storm")],
      rate: 200,
      ticks: 20,
      payloadBytes: 100,
      seqFrom: 20,
    });
    const result = await line();
    await child.status;
    return {
      server: def.name,
      clients,
      restartMs,
      complete: result.complete as number,
      percentComplete: Number((100 * (result.complete as number) / clients).toFixed(1)),
      recovered: result.recovered as number,
      notRecovered: result.notRecovered as number,
      duplicatesOrGaps: result.duplicatesOrGaps as number,
      p50ms: result.p50 as number,
      p99ms: result.p99 as number,
      maxMs: result.max as number,
      reconnectedP50ms: result.reconnectedP50 as number,
      reconnectedP99ms: result.reconnectedP99 as number,
    };
  } finally {
    await server.stop();
  }
}

const SCENARIOS: Record<string, () => Promise<Row[]>> = {
  async fanout() {
    const rows: Row[] = [];
    for (const def of SERVERS) {
      rows.push(await measureFanout(def, { subscribers: 1_000, rate: 400, ticks: 1_200 }));
    }
    for (const def of SERVERS) {
      rows.push(await measureFanout(def, { subscribers: 10_000, rate: 5, ticks: 30 }));
    }
    return rows;
  },
  async board() {
    const rows: Row[] = [];
    for (const def of SERVERS) {
      rows.push(
        await measureFanout(def, {
          subscribers: 10_000,
          rate: 2,
          ticks: 10,
          channels: 100,
          perConn: 10,
        }),
      );
    }
    return rows;
  },
  async connect() {
    const rows: Row[] = [];
    for (const def of SERVERS) rows.push(await connectStorm(def, 5_000));
    return rows;
  },
  async idle() {
    const rows: Row[] = [];
    for (const def of SERVERS) rows.push(await idleMemory(def, 10_000));
    return rows;
  },
  async storm() {
    return [await reconnectStorm(SERVERS[3], 1_000)];
  },
  async isolates() {
    return [
      await measureFanout(SERVERS[3], { subscribers: 2_000, rate: 200, ticks: 600 }),
      await measureFanout(GATEWAY_2X, { subscribers: 2_000, rate: 200, ticks: 600 }),
    ];
  },
};

function table(rows: Row[]): string {
  const cols = Object.keys(rows[0] ?? {});
  const lines = [`| ${cols.join(" | ")} |`, `| ${cols.map(() => "---").join(" | ")} |`];
  for (const r of rows) lines.push(`| ${cols.map((c) => r[c] ?? "").join(" | ")} |`);
  return lines.join("\n");
}

await ensurePeers();
const wanted = Deno.args.length > 0 ? Deno.args : Object.keys(SCENARIOS);
const started = performance.now();
try {
  for (const name of wanted) {
    const run = SCENARIOS[name];
    if (!run) {
      throw new Error(`Cannot run scenario "${name}": one of ${Object.keys(SCENARIOS).join(", ")}`);
    }
    const t = performance.now();
    report[name] = await run();
    console.log(
      `\n### ${name} (${((performance.now() - t) / 1000).toFixed(0)} s)\n\n${table(report[name])}`,
    );
  }
} finally {
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL("./results/latest.json", import.meta.url),
  JSON.stringify(
    { date: new Date().toISOString(), cpus: navigator.hardwareConcurrency, report },
    null,
    2,
  ) + "\n",
);
console.log(
  `\nall scenarios in ${
    ((performance.now() - started) / 1000).toFixed(0)
  } s; bench/results/latest.json`,
);
