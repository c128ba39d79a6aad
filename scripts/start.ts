/**
 * `deno task start`: builds the island bundles once, then runs `main.ts` under
 * `deno serve` on `PORT` / `HOSTNAME`, with one isolate per core (`--parallel`;
 * `DENO_JOBS` overrides the count, `DENO_JOBS=1` runs a single isolate). Forwards
 * SIGINT / SIGTERM and exits with the server.
 */
import { loadConfig } from "../lib/app/config.ts";

const root = new URL("../", import.meta.url);
const config = loadConfig(Deno.env);
const jobsEnv = Deno.env.get("DENO_JOBS");
let jobs = jobsEnv ? Number(jobsEnv) : navigator.hardwareConcurrency;
if (!Number.isInteger(jobs) || jobs < 1) {
  console.error(`Cannot read DENO_JOBS: expected a positive integer, got "${jobsEnv}"`);
  Deno.exit(1);
}
if (jobs > 1 && config.kvPath === ":memory:" && !config.kvUrl) {
  // Each isolate would open a database of its own: no shared history, no shared leases.
  console.log("KV_PATH=:memory: is per isolate: starting one isolate (use a file to run several)");
  jobs = 1;
}

async function run(args: string[], env?: Record<string, string>): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), { args, cwd: root, stdin: "null", env }).spawn();
  return (await child.status).code;
}

const built = await run(["run", "-A", "dev.ts", "build"]);
if (built !== 0) {
  console.error("Cannot start: building the island bundles failed (see above)");
  Deno.exit(built);
}

const args = ["serve", "-A", "--port", String(config.port), "--host", config.hostname];
if (jobs > 1) args.push("--parallel");
args.push("main.ts");

const server = new Deno.Command(Deno.execPath(), {
  args,
  cwd: root,
  stdin: "null",
  env: { DENO_JOBS: String(jobs) },
}).spawn();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    try {
      server.kill(signal);
    } catch {
      // already gone
    }
  });
}
if (config.port !== 0) {
  const host = config.hostname === "0.0.0.0" ? "localhost" : config.hostname;
  console.log(`Dashboard: http://${host}:${config.port}/ (${jobs} isolate${jobs > 1 ? "s" : ""})`);
}
const status = await server.status;
Deno.exit(status.code);
