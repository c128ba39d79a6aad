/**
 * Listening: `start(manifest, config)` for classic Fresh entry points, and the
 * `Deno.serve` options shared with `dev()`.
 *
 * @module
 */
import { createHandler } from "./handler.ts";
import type { FreshConfig, Manifest } from "./types.ts";

/**
 * `Deno.serve` options from `config.server`; `port` and `hostname` default to the
 * `PORT` and `HOSTNAME` environment variables, then to `8000` and `"0.0.0.0"`.
 * `env` reads a variable; by default the environment, without permission prompts.
 */
export function serveOptions(
  config: FreshConfig = {},
  env: (name: string) => string | undefined = readEnv,
): Deno.ServeTcpOptions {
  const server = config.server ?? {};
  const envPort = env("PORT");
  let port = server.port;
  if (port === undefined && envPort !== undefined) {
    port = Number(envPort);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new Error(`Cannot listen: PORT must be a port number, got ${JSON.stringify(envPort)}`);
    }
  }
  return {
    ...server,
    port: port ?? 8000,
    hostname: server.hostname ?? env("HOSTNAME") ?? "0.0.0.0",
  };
}

/**
 * Creates the handler for `manifest` and serves it with `Deno.serve` (which prints the
 * URL). Resolves when the server has finished, e.g. after `config.server.signal` aborted.
 */
export async function start(manifest: Manifest, config: FreshConfig = {}): Promise<void> {
  const handler = await createHandler(manifest, config);
  const server = Deno.serve(serveOptions(config), handler);
  await server.finished;
}

/** An environment variable, or `undefined` when unset or not permitted (never prompts). */
function readEnv(name: string): string | undefined {
  const status = Deno.permissions.querySync({ name: "env", variable: name });
  if (status.state !== "granted") return undefined;
  const value = Deno.env.get(name);
  return value === "" ? undefined : value;
}
