/**
 * The benchmark harness: our gateway side by side with a raw Deno server, `ws` on Node and
 * Socket.IO on Node, same load generator, same machine, one run (`deno task bench`). Method:
 * bench/README.md. In short: the server is pinned to core 0 and the load generator to core 1
 * (`taskset`); publishers run on an open-loop schedule and latency is receive time minus the
 * publish's *scheduled* time; every latency scenario first finds each server's throughput
 * (a saturating burst), then runs a ladder of offered loads at 25–150 % of it and reports,
 * per step, delivered/s, p50, p99, max and lost; the headline is the capacity at p99 ≤ 50 ms.
 * A step whose load generator was saturated is marked, not reported as the server's; a
 * server that crashes or loses messages fails the run (exit code 1).
 *
 *   deno run -A bench/harness.ts [scenario …]   # fanout, board, connect, idle, storm, isolates
 *   deno run -A bench/harness.ts --smoke        # `deno task bench:smoke`: ≤ 60 s regression guard
 *   BENCH_SERVERS=gateway,gateway-guard deno run -A bench/harness.ts fanout   # some servers only
 *
 * Servers: raw-deno, ws-node, socketio-node, gateway (`deno serve`), gateway-guard (the same
 * handler behind the connection guard, as `deno task start` serves the app); `storm` runs
 * the gateway servers only, `isolates` runs the fan-out ladder on gateway-2x (2 isolates,
 * both cores: machine-bound). Writes bench/results/latest.json (smoke: smoke.json).
 */
import { SignJWT } from "jose";
import { ensurePeers } from "./peers/install.ts";

type ServerName =
  | "raw-deno"
  | "ws-node"
  | "socketio-node"
  | "gateway"
  | "gateway-guard"
  | "gateway-2x";

/**
 * What our gateways are offered: the batching JSON codec (docs/PROTOCOL.md, "Batched frames"),
 * as the SDK offers it; `BENCH_BATCH=off` offers plain JSON (one message per frame) for A/B.
 */
const GATEWAY_SUBPROTOCOL = Deno.env.get("BENCH_BATCH") === "off"
  ? "realtime.v1.json"
  : "realtime.v1.json.batch";

/** `BENCH_CPU_PROF=<dir>`: our gateways write a CPU profile there (bench/README.md). */
const CPU_PROF = Deno.env.get("BENCH_CPU_PROF")
  ? ["--cpu-prof", `--cpu-prof-dir=${Deno.env.get("BENCH_CPU_PROF")}`]
  : [];

interface ServerDef {
  name: ServerName;
  command: string[];
  env?: Record<string, string>;
  protocol: "json" | "sio";
  tokenIn: "query" | "header" | "sio";
  /** `Sec-WebSocket-Protocol` to offer (our gateways: the batching JSON codec). */
  subprotocol?: string;
  /** Channel name for a logical channel (`latest`: a latest-value channel). */
  channel: (name: string, latest?: boolean) => string;
  /** WebSocket URL from the port. */
  url: (port: number) => string;
  /** CPU cores the server may use (`taskset -c`). Default: the server core. */
  cores?: string;
}

/** The core of the server, and the core of the load generators (and the harness's waits). */
const SERVER_CORE = "0";
const LOAD_CORE = "1";
const DENO = Deno.execPath();
const SECRET = "bench-secret-bench-secret-bench-secret!!";
const PEER_TOKEN = "bench-token";
const root = new URL("../", import.meta.url);
const tmp = await Deno.makeTempDir(
  Deno.env.get("BENCH_KV_DIR") ? { dir: Deno.env.get("BENCH_KV_DIR") } : {},
);
const hasTaskset = await new Deno.Command("taskset", { args: ["-c", "0", "true"] }).output()
  .then((o) => o.success, () => false);

/** `cmd` pinned to `cores` (unpinned when taskset is missing: the tables then say so). */
function pinned(cores: string, cmd: string[]): string[] {
  return hasTaskset ? ["taskset", "-c", cores, ...cmd] : cmd;
}

const ALL_SERVERS: ServerDef[] = [
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
      ...CPU_PROF,
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "bench/peers/gateway.ts",
    ],
    env: { DENO_JOBS: "1" },
    protocol: "json",
    tokenIn: "header",
    subprotocol: GATEWAY_SUBPROTOCOL,
    channel: (n, latest) => `${latest ? "board" : "bench"}:${n}`,
    url: (p) => `ws://127.0.0.1:${p}/ws`,
  },
  {
    // The same handler through the connection guard (lib/net/guard.ts), one isolate.
    name: "gateway-guard",
    command: [
      DENO,
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      ...CPU_PROF,
      "bench/peers/gateway_guarded.ts",
    ],
    env: { DENO_JOBS: "1" },
    protocol: "json",
    tokenIn: "header",
    subprotocol: GATEWAY_SUBPROTOCOL,
    channel: (n, latest) => `${latest ? "board" : "bench"}:${n}`,
    url: (p) => `ws://127.0.0.1:${p}/ws`,
  },
];
const GATEWAY = ALL_SERVERS.find((s) => s.name === "gateway")!;
const GATEWAY_2X: ServerDef = {
  ...GATEWAY,
  name: "gateway-2x",
  command: [...GATEWAY.command.slice(0, 3), "--parallel", ...GATEWAY.command.slice(3)],
  env: { DENO_JOBS: "2" },
  cores: `${SERVER_CORE},${LOAD_CORE}`,
};

/** The servers of this run: `BENCH_SERVERS` (comma-separated names), else all. */
function selectServers(env: string | undefined): ServerDef[] {
  if (!env?.trim()) return ALL_SERVERS;
  const names = env.split(",").map((n) => n.trim()).filter((n) => n !== "");
  const known = [...ALL_SERVERS, GATEWAY_2X];
  return names.map((name) => {
    const def = known.find((s) => s.name === name);
    if (!def) {
      throw new Error(
        `Cannot read BENCH_SERVERS: unknown server "${name}" (one of ${
          known.map((s) => s.name).join(", ")
        })`,
      );
    }
    return def;
  });
}
const SERVERS = selectServers(Deno.env.get("BENCH_SERVERS"));

interface Running {
  def: ServerDef;
  port: number;
  child: Deno.ChildProcess;
  /** Set when the process ended before `stop()`. */
  exited: { code: number } | null;
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
  const [cmd, ...rest] = pinned(def.cores ?? SERVER_CORE, [def.command[0], ...args]);
  const child = new Deno.Command(cmd, {
    args: rest,
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
      const part = decoder.decode(chunk, { stream: true });
      text = (text + part).slice(-20_000);
      const m = text.match(/LISTENING (\d+)|Listening on https?:\/\/[^:\s]+:(\d+)/);
      if (m) found(Number(m[1] ?? m[2]));
      if (/error|panic|uncaught/i.test(part)) console.error(`[${def.name}] ${part.trimEnd()}`);
    }
  };
  const pumps = Promise.all([scan(child.stdout), scan(child.stderr)]);
  let stopping = false;
  const running: Running = {
    def,
    port: 0,
    child,
    exited: null,
    async stop() {
      stopping = true;
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
  child.status.then((st) => {
    if (!stopping) {
      running.exited = { code: st.code };
      console.error(`[${def.name}] CRASHED with exit code ${st.code}:\n${text.slice(-2_000)}`);
    }
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<number>((_, reject) =>
    timer = setTimeout(() => reject(new Error(`Cannot start ${def.name}:\n${text}`)), 30_000)
  );
  try {
    running.port = await Promise.race([port, timeout]);
  } finally {
    clearTimeout(timer);
  }
  return running;
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

/** One load-generator process (bench/loadgen.ts), pinned to the load core. */
class Load {
  #child: Deno.ChildProcess;
  #reader: ReadableStreamDefaultReader<string>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #buffer = "";
  #lines: string[] = [];
  #waiters: ((line: string | null) => void)[] = [];
  #ended = false;

  constructor(spec: Record<string, unknown>, cores = LOAD_CORE) {
    // The spec goes in a file: a board's subscription plan is larger than one argument may be.
    const file = `${tmp}/load-${crypto.randomUUID().slice(0, 8)}.json`;
    Deno.writeTextFileSync(file, JSON.stringify(spec));
    const [cmd, ...args] = pinned(cores, [DENO, "run", "-A", "bench/loadgen.ts", `@${file}`]);
    this.#child = new Deno.Command(cmd, {
      args,
      cwd: root,
      stdout: "piped",
      stderr: "inherit",
      stdin: "piped",
    }).spawn();
    this.#reader = this.#child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    this.#writer = this.#child.stdin.getWriter();
    this.#pump();
  }

  async #pump(): Promise<void> {
    for (;;) {
      const { value, done } = await this.#reader.read().catch(() => ({ value: "", done: true }));
      if (done) break;
      this.#buffer += value;
      for (let nl = this.#buffer.indexOf("\n"); nl >= 0; nl = this.#buffer.indexOf("\n")) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        const w = this.#waiters.shift();
        if (w) w(line);
        else this.#lines.push(line);
      }
    }
    this.#ended = true;
    for (const w of this.#waiters.splice(0)) w(null);
  }

  /** The next JSON line, or null when the process ended or `ms` passed. */
  next(ms: number): Promise<Record<string, unknown> | null> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(JSON.parse(line));
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        resolve(null);
      }, ms);
      const w = (l: string | null) => {
        clearTimeout(timer);
        resolve(l === null ? null : JSON.parse(l));
      };
      this.#waiters.push(w);
    });
  }

  async send(cmd: Record<string, unknown>): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(JSON.stringify(cmd) + "\n"));
  }

  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    const killer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 5_000);
    await this.#child.status;
    clearTimeout(killer);
  }
}

async function control(
  server: Running,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  if (server.exited) throw new Error(`${server.def.name} crashed (exit ${server.exited.code})`);
  const res = await fetch(`http://127.0.0.1:${server.port}${path}`, {
    method: body === undefined && path === "/stats" ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) {
    throw new Error(`${server.def.name} ${path}: HTTP ${res.status} ${await res.text()}`);
  }
  return await res.json();
}

async function cpuOf(server: Running): Promise<number> {
  const s = await control(server, "/stats");
  return ((s.cpuUserUs as number) + (s.cpuSystemUs as number)) / 1e6;
}

type Row = Record<string, string | number | null>;
const report: Record<string, Row[]> = {};
/** Why the run fails (a crash, lost messages); empty = passed. */
const failures: string[] = [];

/** Load generator busier than this (cores, of its one core) = the step measured the load. */
const LOAD_BOUND = 0.85;
/** The latency bound of the headline capacity, ms. */
const P99_BOUND_MS = 50;
/** Ladder steps, % of the throughput found by the probe. */
const LADDER = [25, 50, 75, 100, 125, 150];
/** Steps above the ladder, % of the probe's throughput, while the top step still passes. */
const EXTEND = [200, 300, 400];
/** Longest wait for a step's last value after its schedule ended, ms. */
const DRAIN_MS = 12_000;

/** A latency scenario: who subscribes to what, and how long each step publishes. */
interface LatencyScenario {
  name: string;
  connections: number;
  /** Logical channel names, in schedule order. */
  channels: string[];
  /** Channels of connection i (indices into `channels`). */
  plan: (i: number) => number[];
  /** Subscriptions per channel (= connections × per connection ÷ channels). */
  perChannel: number;
  latest: boolean;
  /** Channels publish in this many groups, staggered over the interval (bench/README.md). */
  groups: number;
  /** Offered deliveries/s and ticks of the saturating probe. */
  probe: { offered: number; seconds: number };
  stepSeconds: number;
  payloadBytes: number;
}

/** `BENCH_SCALE` (0 < x ≤ 1) shrinks connections and loads, for trying the method quickly. */
const SCALE = Math.min(1, Math.max(0.01, Number(Deno.env.get("BENCH_SCALE") ?? 1) || 1));

const FANOUT: LatencyScenario = {
  name: "fanout",
  connections: Math.round(1_000 * SCALE),
  channels: ["fan"],
  plan: () => [0],
  perChannel: Math.round(1_000 * SCALE),
  latest: false,
  groups: 1,
  probe: { offered: 600_000 * SCALE, seconds: 0.5 },
  stepSeconds: 2,
  payloadBytes: 100,
};
const BOARD: LatencyScenario = {
  name: "board",
  connections: Math.round(2_000 * SCALE),
  channels: Array.from({ length: 100 }, (_, i) => `sym${i}`),
  plan: (i) => Array.from({ length: 10 }, (_, k) => (i * 10 + k) % 100),
  perChannel: Math.round(200 * SCALE),
  latest: true,
  // A round of 10 symbols published at once (the app's market engine publishes rounds).
  groups: 10,
  probe: { offered: 600_000 * SCALE, seconds: 0.5 },
  stepSeconds: 2,
  payloadBytes: 100,
};

interface StepRow extends Row {
  server: string;
  step: string;
  offeredPerSec: number;
  deliveredPerSec: number | null;
  p50ms: number | null;
  p99ms: number | null;
  maxMs: number | null;
  lost: number;
  serverCpu: number | null;
  loadCpu: number | null;
  note: string;
}

/** One measured step: offered deliveries/s for `seconds`. */
async function runStep(
  server: Running,
  load: Load,
  sc: LatencyScenario,
  names: string[],
  offered: number,
  seconds: number,
  label: string,
): Promise<StepRow & Record<string, number | string | null>> {
  // Ticks per second of each channel.
  const perChannelRate = offered / (sc.perChannel * sc.channels.length);
  const ticks = Math.max(3, Math.round(perChannelRate * seconds));
  const startAt = Date.now() + 300;
  await load.send({
    cmd: "step",
    startAt,
    rate: perChannelRate,
    ticks,
    channels: names.length,
    groups: sc.groups,
  });
  const cpu0 = await cpuOf(server);
  const publishing = control(server, "/publish", {
    channels: names,
    rate: perChannelRate,
    ticks,
    payloadBytes: sc.payloadBytes,
    startAt,
    groups: sc.groups,
  });
  const scheduleEnd = startAt + (ticks * 1000) / perChannelRate;
  let complete = false;
  const deadline = scheduleEnd + DRAIN_MS;
  while (!complete && Date.now() < deadline && !server.exited) {
    const line = await load.next(Math.max(1, Math.min(1_000, deadline - Date.now())));
    if (Deno.env.get("BENCH_DEBUG")) console.error("line", line);
    if (line?.event === "complete") complete = true;
  }
  await publishing.catch((err) => {
    if (!server.exited) throw err;
  });
  if (server.exited) throw new Error(`${server.def.name} crashed during ${sc.name} ${label}`);
  const cpu1 = await cpuOf(server);
  await load.send({ cmd: "end" });
  const r = await load.next(10_000);
  if (!r) throw new Error(`load generator ended during ${sc.name} ${label}`);
  const received = r.received as number;
  const expected = r.expected as number;
  const finals = r.finals as number;
  const subscriptions = r.subscriptions as number;
  const active = Math.max(0.001, ((r.lastAt as number ?? Date.now()) - startAt) / 1000);
  const loadCpu = (r.cpuSeconds as number) / active;
  const serverCpu = (cpu1 - cpu0) / active;
  // Latest-value channels may skip intermediate values (our gateway does, by design); the
  // newest value must arrive. Ordered channels: every value, in order.
  const lost = sc.latest && server.def.name.startsWith("gateway")
    ? subscriptions - finals
    : expected - received;
  const loadBound = loadCpu >= LOAD_BOUND;
  const notes: string[] = [];
  if (loadBound) notes.push(`load-bound (load generator ${loadCpu.toFixed(2)} cores)`);
  if (lost > 0) notes.push(`LOST ${lost}`);
  if ((r.outOfOrder as number) > 0) notes.push(`${r.outOfOrder} out of order`);
  if (server.def.cores?.includes(",")) notes.push("machine-bound (server on both cores)");
  const row = {
    server: server.def.name,
    step: label,
    offeredPerSec: Math.round(offered),
    deliveredPerSec: Math.round(received / active),
    p50ms: r.p50 as number | null,
    p99ms: r.p99 as number | null,
    maxMs: r.max as number | null,
    lost,
    serverCpu: Number(serverCpu.toFixed(2)),
    loadCpu: Number(loadCpu.toFixed(2)),
    note: notes.join("; "),
    ...(sc.latest
      ? {
        ageP50ms: r.ageP50 as number | null,
        ageP99ms: r.ageP99 as number | null,
        ageMaxMs: r.ageMax as number | null,
        skippedPct: Number((100 * (expected - received) / Math.max(1, expected)).toFixed(1)),
      }
      : {}),
  };
  if (lost > 0 || (!sc.latest && (r.outOfOrder as number) > 0)) {
    failures.push(`${sc.name} ${server.def.name} ${label}: ${row.note}`);
  }
  console.error(`  ${sc.name} ${server.def.name} ${label}: ${JSON.stringify(row)}`);
  return row;
}

/** Whether a step counts for the capacity at the latency bound. */
function passes(row: StepRow): boolean {
  return row.lost === 0 && !row.note.includes("load-bound") && row.p99ms !== null &&
    row.p99ms <= P99_BOUND_MS;
}

interface LadderResult {
  steps: StepRow[];
  headline: Row;
}

/**
 * The ladder for one server: open the subscribers, probe the throughput with a saturating
 * burst, then 25–150 % of it (and one step between the highest passing and the first
 * failing one); the capacity at p99 ≤ 50 ms is the highest offered load that passed.
 */
async function ladder(def: ServerDef, sc: LatencyScenario, options: {
  steps?: number[];
  fixedOffered?: number;
} = {}): Promise<LadderResult> {
  const server = await startServer(def);
  const names = sc.channels.map((n) => def.channel(n, sc.latest));
  const load = new Load({
    url: def.url(server.port),
    protocol: def.protocol,
    token: await tokenFor(def),
    tokenIn: def.tokenIn,
    subprotocol: def.subprotocol,
    count: sc.connections,
    channels: Array.from({ length: sc.connections }, (_, i) => sc.plan(i).map((c) => names[c])),
    timeoutMs: 60_000,
    concurrency: 200,
    mode: "fanout",
  });
  try {
    const ready = await load.next(70_000);
    if (!ready || ready.ready !== sc.connections) {
      throw new Error(
        `Cannot open ${sc.connections} subscribers on ${def.name}: ${JSON.stringify(ready)}`,
      );
    }
    const steps: StepRow[] = [];
    const probe = await runStep(
      server,
      load,
      sc,
      names,
      sc.probe.offered,
      sc.probe.seconds,
      "probe",
    );
    steps.push(probe);
    const capacity = options.fixedOffered ?? probe.deliveredPerSec ?? 0;
    for (const pct of options.steps ?? LADDER) {
      steps.push(
        await runStep(server, load, sc, names, capacity * pct / 100, sc.stepSeconds, `${pct}%`),
      );
    }
    // The probe's delivered rate underestimates a server that skips superseded values when
    // saturated: while the top step passes, go on up (200, 300, 400 % of the probe).
    for (const pct of options.fixedOffered ? [] : EXTEND) {
      const top = steps.slice(1).sort((a, b) => b.offeredPerSec - a.offeredPerSec)[0];
      if (!top || !passes(top)) break;
      steps.push(
        await runStep(server, load, sc, names, capacity * pct / 100, sc.stepSeconds, `${pct}%`),
      );
    }
    // Nothing passed (a probe far above what the server delivers in time, e.g. when it
    // batches or coalesces bursts): go down to 12.5 % and 6.25 %.
    const passing = () =>
      steps.slice(1).filter(passes).sort((a, b) => b.offeredPerSec - a.offeredPerSec)[0];
    for (const pct of [12.5, 6.25]) {
      if (passing() || options.fixedOffered) break;
      steps.push(
        await runStep(server, load, sc, names, capacity * pct / 100, sc.stepSeconds, `${pct}%`),
      );
    }
    // Then halve the gap between the highest passing step and the lowest failing one above it,
    // twice (capacity within about an eighth of the gap).
    for (let i = 0; i < 2 && !options.fixedOffered; i++) {
      const low = passing();
      const high = low && steps.slice(1)
        .filter((s) => s.offeredPerSec > low.offeredPerSec && !passes(s))
        .sort((a, b) => a.offeredPerSec - b.offeredPerSec)[0];
      if (!low || !high || high.offeredPerSec / low.offeredPerSec < 1.08) break;
      const mid = (low.offeredPerSec + high.offeredPerSec) / 2;
      const pct = Math.round(100 * mid / capacity);
      steps.push(await runStep(server, load, sc, names, mid, sc.stepSeconds, `${pct}%`));
    }
    const ladderSteps = steps.slice(1);
    const best: StepRow | undefined = passing();
    const loadLimited = ladderSteps.some((s) => s.note.includes("load-bound"));
    // Freshness under overload: 150 % of the capacity found (of the probe's throughput when
    // no step passed; a ladder step within 5 % of that load serves). Overload means a busy
    // server: while its core is below 0.9 there (the capacity found was a floor), 1.5 × more,
    // at most twice.
    let over: StepRow | undefined;
    if (sc.latest && !options.fixedOffered) {
      let target = 1.5 * (best?.offeredPerSec ?? capacity);
      let label = "150% of capacity";
      over = steps.slice(1).find((s) => Math.abs(s.offeredPerSec / target - 1) <= 0.05);
      for (let more = 0; more <= 2; more++) {
        if (!over) {
          over = await runStep(server, load, sc, names, target, sc.stepSeconds, label);
          steps.push(over);
        }
        if ((over.serverCpu ?? 1) >= 0.9 || over.note.includes("load-bound") || more === 2) break;
        target *= 1.5;
        label = `${Math.round(100 * target / (best?.offeredPerSec ?? capacity))}% of capacity`;
        over = steps.slice(1).find((s) => Math.abs(s.offeredPerSec / target - 1) <= 0.05);
      }
    }
    const headline: Row = {
      server: def.name,
      throughputPerSec: probe.deliveredPerSec,
      capacityAtP99: best ? best.offeredPerSec : null,
      p99AtCapacity: best ? best.p99ms : null,
      note: !best
        ? (loadLimited ? "load generator saturated" : `p99 > ${P99_BOUND_MS} ms at every step`)
        : (probe.note.includes("load-bound") ? "probe load-bound: throughput is the load's" : ""),
      ...(sc.latest && over
        ? {
          overloadStep: over.step,
          overloadOffered: over.offeredPerSec,
          overloadServerCpu: over.serverCpu,
          overloadLoadCpu: over.loadCpu,
          overloadNote: over.note,
          ageP50ms: over.ageP50ms as number,
          ageP99ms: over.ageP99ms as number,
          ageMaxMs: over.ageMaxMs as number,
          skippedPct: over.skippedPct as number,
          overloadLost: over.lost,
        }
        : {}),
    };
    return { steps, headline };
  } finally {
    await load.close();
    await server.stop();
  }
}

/** Adds ratio columns (capacity at the bound) against the peers measured in the same run. */
function withRatios(rows: Row[]): Row[] {
  const cap = (name: string) => rows.find((r) => r.server === name)?.capacityAtP99 as number | null;
  return rows.map((r) => {
    const mine = r.capacityAtP99 as number | null;
    const ratio = (peer: string) => {
      const theirs = cap(peer);
      return mine && theirs ? Number((mine / theirs).toFixed(2)) : null;
    };
    return {
      ...r,
      vsRawDeno: ratio("raw-deno"),
      vsWsNode: ratio("ws-node"),
      vsSocketIo: ratio("socketio-node"),
    };
  });
}

async function latencyScenario(
  sc: LatencyScenario,
  defs: ServerDef[],
  key = sc.name,
): Promise<Row[]> {
  const headlines: Row[] = [];
  const steps: Row[] = [];
  for (const def of defs) {
    try {
      // BENCH_FIXED=<deliveries/s>: the probe, then three steps at that load (A/B of a change).
      const fixed = Number(Deno.env.get("BENCH_FIXED") ?? 0);
      const r = await ladder(
        def,
        sc,
        fixed > 0 ? { steps: [100, 100, 100], fixedOffered: fixed } : {},
      );
      headlines.push(r.headline);
      steps.push(...r.steps);
    } catch (err) {
      failures.push(`${sc.name} ${def.name}: ${(err as Error).message}`);
      headlines.push({ server: def.name, note: `FAILED: ${(err as Error).message.slice(0, 200)}` });
    }
  }
  report[`${key}-steps`] = steps;
  return withRatios(headlines);
}

async function connectStorm(def: ServerDef, connections: number): Promise<Row> {
  const server = await startServer(def);
  try {
    const cpu0 = await cpuOf(server);
    const load = new Load({
      url: def.url(server.port),
      protocol: def.protocol,
      token: await tokenFor(def),
      tokenIn: def.tokenIn,
      subprotocol: def.subprotocol,
      count: connections,
      channels: [],
      timeoutMs: 60_000,
      concurrency: 250,
      mode: "connect",
    });
    const r = await load.next(70_000);
    await load.close();
    if (!r || r.error) throw new Error(`connect storm on ${def.name}: ${JSON.stringify(r)}`);
    const cpu1 = await cpuOf(server);
    const opened = r.opened as number;
    const ms = r.openMs as number;
    const loadCpu = (r.cpuSeconds as number) / (ms / 1000);
    if ((r.failed as number) > 0) failures.push(`connect ${def.name}: ${r.failed} failed`);
    return {
      server: def.name,
      connections,
      opened,
      failed: r.failed as number,
      seconds: Number((ms / 1000).toFixed(2)),
      connectionsPerSec: Math.round(opened / (ms / 1000)),
      // Server CPU per 1 000 connections opened, ms: steadier than the rate.
      serverCpuMsPer1k: Math.round((cpu1 - cpu0) * 1e6 / Math.max(1, opened)),
      serverCpu: Number(((cpu1 - cpu0) / (ms / 1000)).toFixed(2)),
      loadCpu: Number(loadCpu.toFixed(2)),
      note: loadCpu >= LOAD_BOUND ? `load-bound (load generator ${loadCpu.toFixed(2)} cores)` : "",
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
    const s0 = await control(server, "/stats");
    const load = new Load({
      url: def.url(server.port),
      protocol: def.protocol,
      token: await tokenFor(def),
      tokenIn: def.tokenIn,
      subprotocol: def.subprotocol,
      count: connections,
      channels: [],
      timeoutMs: 120_000,
      concurrency: 250,
      mode: "idle",
    });
    const ready = await load.next(130_000);
    if (!ready || ready.ready !== connections) {
      await load.close();
      throw new Error(`idle on ${def.name}: ${JSON.stringify(ready)}`);
    }
    await new Promise((r) => setTimeout(r, 1_000));
    await control(server, "/gc", {});
    await new Promise((r) => setTimeout(r, 500));
    const s1 = await control(server, "/stats");
    await load.close();
    const n = Math.max(1, s1.connections as number);
    return {
      server: def.name,
      connections: s1.connections as number,
      rssBeforeMB: Number(((s0.rss as number) / 2 ** 20).toFixed(1)),
      rssAfterMB: Number(((s1.rss as number) / 2 ** 20).toFixed(1)),
      kbPerConnection: Number((((s1.rss as number) - (s0.rss as number)) / 1024 / n).toFixed(2)),
      // The JavaScript heap's share (after a full GC); the rest of the RSS is native.
      heapKbPerConnection: Number(
        (((s1.heapUsed as number) - (s0.heapUsed as number)) / 1024 / n).toFixed(2),
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
  const [cmd, ...args] = pinned(LOAD_CORE, [
    DENO,
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
  ]);
  const child = new Deno.Command(cmd, {
    args,
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
  fanout: () => latencyScenario(FANOUT, SERVERS.filter((s) => s.name !== "gateway-2x")),
  board: () => latencyScenario(BOARD, SERVERS.filter((s) => s.name !== "gateway-2x")),
  async connect() {
    const rows: Row[] = [];
    for (const def of SERVERS) rows.push(await connectStorm(def, Math.round(5_000 * SCALE)));
    return rows;
  },
  async idle() {
    const rows: Row[] = [];
    for (const def of SERVERS) rows.push(await idleMemory(def, Math.round(10_000 * SCALE)));
    return rows;
  },
  async storm() {
    const rows: Row[] = [];
    for (const def of SERVERS) {
      if (def.name === "gateway" || def.name === "gateway-guard") {
        rows.push(await reconnectStorm(def, 1_000));
      }
    }
    return rows;
  },
  isolates: () => latencyScenario(FANOUT, [GATEWAY_2X], "isolates"),
};

/**
 * `--smoke` (`deno task bench:smoke`, ≤ 60 s): raw Deno and the gateway (`deno serve` and
 * guarded), fan-out and board, one probe and one step at a fixed offered load each; prints
 * the gateway / raw-Deno ratios of throughput, p99 at the fixed load and server CPU per
 * delivery.
 */
async function smoke(): Promise<Row[]> {
  const defs = ALL_SERVERS.filter((s) => ["raw-deno", "gateway", "gateway-guard"].includes(s.name));
  const rows: Row[] = [];
  for (const [sc, fixed] of [[FANOUT, 40_000], [BOARD, 20_000]] as const) {
    for (const def of defs) {
      const r = await ladder(def, { ...sc, stepSeconds: 1.5 }, {
        steps: [100],
        fixedOffered: fixed,
      });
      const [probe, step] = r.steps;
      rows.push({
        scenario: sc.name,
        server: def.name,
        throughputPerSec: probe.deliveredPerSec,
        offeredPerSec: step.offeredPerSec,
        p50ms: step.p50ms,
        p99ms: step.p99ms,
        cpuUsPerDelivery: step.serverCpu !== null && step.deliveredPerSec
          ? Number((1e6 * step.serverCpu / step.deliveredPerSec).toFixed(2))
          : null,
        note: [probe.note, step.note].filter(Boolean).join("; "),
      });
    }
  }
  return rows;
}

function table(rows: Row[]): string {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const lines = [`| ${cols.join(" | ")} |`, `| ${cols.map(() => "---").join(" | ")} |`];
  for (const r of rows) lines.push(`| ${cols.map((c) => r[c] ?? "").join(" | ")} |`);
  return lines.join("\n");
}

async function loadAverage(): Promise<string> {
  return (await Deno.readTextFile("/proc/loadavg").catch(() => "? ? ?")).split(" ").slice(0, 3)
    .join(" ");
}

const isSmoke = Deno.args.includes("--smoke");
const pinning = hasTaskset
  ? `server pinned to core ${SERVER_CORE}, load generators to core ${LOAD_CORE} (taskset)`
  : "NOT PINNED (taskset missing)";
const context = {
  date: new Date().toISOString(),
  cpus: navigator.hardwareConcurrency,
  deno: Deno.version.deno,
  pinning,
  loadAverageAtStart: await loadAverage(),
  loadAverageAtEnd: "",
};
console.log(`${context.date}; load average ${context.loadAverageAtStart}; ${pinning}`);
const wanted = isSmoke ? ["smoke"] : Deno.args.length > 0 ? Deno.args : Object.keys(SCENARIOS);
if (!isSmoke && SERVERS.some((s) => s.name === "ws-node" || s.name === "socketio-node")) {
  await ensurePeers();
}
const started = performance.now();
try {
  for (const name of wanted) {
    const run = name === "smoke" ? smoke : SCENARIOS[name];
    if (!run) {
      throw new Error(`Cannot run scenario "${name}": one of ${Object.keys(SCENARIOS).join(", ")}`);
    }
    const t = performance.now();
    report[name] = await run();
    console.log(
      `\n### ${name} (${((performance.now() - t) / 1000).toFixed(0)} s; ${pinning})\n\n${
        table(report[name])
      }`,
    );
    const steps = report[`${name}-steps`];
    if (steps) console.log(`\nsteps:\n\n${table(steps)}`);
  }
} finally {
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}
context.loadAverageAtEnd = await loadAverage();
if (isSmoke) {
  for (const sc of ["fanout", "board"]) {
    const rows = report.smoke.filter((r) => r.scenario === sc);
    const raw = rows.find((r) => r.server === "raw-deno");
    for (const gw of rows.filter((r) => r.server !== "raw-deno")) {
      const bound = [raw, gw].some((r) => String(r?.note ?? "").includes("load-bound"));
      const ratio = (k: string) =>
        k === "throughputPerSec" && bound
          ? "n/a (load generator saturated)"
          : raw?.[k] && gw[k]
          ? ((gw[k] as number) / (raw[k] as number)).toFixed(2)
          : "n/a";
      console.log(
        `${sc}: ${gw.server}/raw-deno throughput ${
          ratio("throughputPerSec")
        }×, p99 at ${gw.offeredPerSec}/s ${ratio("p99ms")}×, CPU per delivery ${
          ratio("cpuUsPerDelivery")
        }×`,
      );
    }
  }
}
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL(isSmoke ? "./results/smoke.json" : "./results/latest.json", import.meta.url),
  JSON.stringify({ ...context, failures, report }, null, 2) + "\n",
);
console.log(
  `\nall scenarios in ${
    ((performance.now() - started) / 1000).toFixed(0)
  } s; load average ${context.loadAverageAtEnd} at the end; bench/results/${
    isSmoke ? "smoke" : "latest"
  }.json`,
);
if (failures.length > 0) {
  console.log(`\nFAILED:\n- ${failures.join("\n- ")}`);
  Deno.exit(1);
}
