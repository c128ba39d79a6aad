/**
 * `deno task start`: builds the island bundles once, then runs `main.ts` under
 * `deno serve` on `PORT` / `HOSTNAME` (one isolate unless `DENO_JOBS` > 1, then
 * `--parallel` with that many). Forwards SIGINT / SIGTERM and exits with the server.
 */
import { loadConfig } from "../lib/app/config.ts";

const root = new URL("../", import.meta.url);
const config = loadConfig(Deno.env);
const jobs = Number(Deno.env.get("DENO_JOBS") ?? "1");

async function run(args: string[]): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), { args, cwd: root, stdin: "null" }).spawn();
  return (await child.status).code;
}

const built = await run(["run", "-A", "dev.ts", "build"]);
if (built !== 0) {
  console.error("Cannot start: building the island bundles failed (see above)");
  Deno.exit(built);
}

const args = ["serve", "-A", "--port", String(config.port), "--host", config.hostname];
if (Number.isInteger(jobs) && jobs > 1) args.push("--parallel");
args.push("main.ts");

const server = new Deno.Command(Deno.execPath(), { args, cwd: root, stdin: "null" }).spawn();
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
  console.log(`Dashboard: http://${host}:${config.port}/`);
}
const status = await server.status;
Deno.exit(status.code);
