/**
 * `deno task start`: builds the island bundles once, then serves `main.ts` on `PORT` /
 * `HOSTNAME` with one isolate per core (`DENO_JOBS` overrides the count, `DENO_JOBS=1`
 * runs a single isolate): through the connection guard (`scripts/serve.ts`), or with
 * `NET_GUARD=off` under plain `deno serve --parallel` (behind a reverse proxy that bounds
 * connections itself: docs/OPERATIONS.md). Forwards SIGINT / SIGTERM and exits with the
 * server. With no `CHAIN_RPC_URL` (and `CHAIN` not off) it first starts the embedded dev
 * chain — anvil and its demo activity (lib/wallet/embedded.ts) — and stops it last.
 */
import { loadConfig } from "../lib/app/config.ts";
import { isolateCount } from "./_isolates.ts";
import { describeNoFileLimit, raiseNoFileLimit } from "../lib/net/rlimit.ts";
import { createLogger } from "../lib/app/log.ts";
import { type EmbeddedChain, startEmbeddedChain } from "../lib/wallet/embedded.ts";

const root = new URL("../", import.meta.url);
const config = loadConfig(Deno.env);
const jobs = isolateCount(config);

async function run(args: string[], env?: Record<string, string>): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), { args, cwd: root, stdin: "null", env }).spawn();
  return (await child.status).code;
}

// The server inherits the raised limit (Deno 2.9.6 raises it at start anyway).
const openFiles = describeNoFileLimit(raiseNoFileLimit());

const built = await run(["run", "-A", "dev.ts", "build"]);
if (built !== 0) {
  console.error("Cannot start: building the island bundles failed (see above)");
  Deno.exit(built);
}

// No node configured: run the embedded dev chain (anvil + demo activity) for this process.
let embedded: EmbeddedChain | null = null;
if (config.chain.enabled && !config.chain.rpcUrl) {
  const log = createLogger(config.logLevel, { component: "demo-chain" });
  try {
    embedded = await startEmbeddedChain(log);
    console.log(
      `Embedded chain: anvil on ${embedded.url} with demo activity (CHAIN_RPC_URL to use another node, CHAIN=off for none)`,
    );
  } catch (err) {
    console.error(
      `Cannot start the embedded chain: ${
        err instanceof Error ? err.message : err
      }; the wallet stays off`,
    );
  }
}

const args = config.netGuard
  ? ["run", "-A", "--unstable-net", "scripts/serve.ts"]
  : ["serve", "-A", "--port", String(config.port), "--host", config.hostname];
if (!config.netGuard) args.push(...(jobs > 1 ? ["--parallel"] : []), "main.ts");

const server = new Deno.Command(Deno.execPath(), {
  args,
  cwd: root,
  stdin: "null",
  env: { DENO_JOBS: String(jobs), ...embedded?.env },
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
  const guard = config.netGuard ? "connection guard on" : "NET_GUARD=off: plain deno serve";
  console.log(
    `Dashboard: http://${host}:${config.port}/ (${jobs} isolate${
      jobs > 1 ? "s" : ""
    }; ${guard}; ${openFiles})`,
  );
}
const status = await server.status;
await embedded?.stop().catch((err) => console.error(`Cannot stop the embedded chain: ${err}`));
Deno.exit(status.code);
