/**
 * The application in the test's own process, served through the connection guard as
 * `deno task start` serves it (lib/app/net_guard.ts), on a free port of 127.0.0.1 and the
 * same port of ::1 — two client addresses on one machine, so a test can attack from one
 * (127.0.0.1) while a healthy client uses the other (::1).
 *
 * Like `serveApp` (tests/_app.ts) but guarded; one in-process app at a time.
 */
import { createHandler } from "$fresh/server.ts";
import freshConfig from "../fresh.config.ts";
import manifest from "../fresh.gen.ts";
import { loadConfig } from "../lib/app/config.ts";
import { setAppServices } from "../lib/app/context.ts";
import { createLogger } from "../lib/app/log.ts";
import { type GuardedServer, serveGuarded } from "../lib/app/net_guard.ts";
import { type AppServices, createServices } from "../lib/app/services.ts";
import { CloseCode } from "../lib/protocol/codes.ts";
import { DEMO_PASSWORD } from "./_auth.ts";
import { deadline } from "./_deadline.ts";

/** The guarded application running inside the test process. */
export interface GuardedApp extends AsyncDisposable {
  port: number;
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  /** `http://[::1]:PORT` (null when this machine has no IPv6 loopback). */
  origin6: string | null;
  services: AppServices;
  server: GuardedServer;
  /** The log lines written so far. */
  output(): string;
  stop(): Promise<void>;
}

/** Builds the services and serves them through the guard; `env` as for `deno serve`. */
export async function serveGuardedApp(env: Record<string, string> = {}): Promise<GuardedApp> {
  const vars: Record<string, string> = {
    KV_PATH: ":memory:",
    LOG_LEVEL: "warn",
    PBKDF2_ITERATIONS: "1000",
    DEMO_PASSWORD,
    ...env,
  };
  const config = loadConfig({ get: (name) => vars[name] });
  let text = "";
  const log = createLogger(config.logLevel, {}, (_level, line) => {
    text = (text + line + "\n").slice(-1_000_000);
  });
  const services = await deadline(createServices(config, { log }), 60_000, "the app's services");
  let server: GuardedServer;
  try {
    setAppServices(services);
    const handler = await deadline(
      createHandler(manifest, freshConfig),
      120_000,
      "createHandler to bundle the islands",
    );
    const ipv6 = await hasIpv6Loopback();
    server = serveGuarded({
      handler,
      services,
      hostnames: ipv6 ? ["127.0.0.1", "::1"] : ["127.0.0.1"],
      port: 0,
      isolates: 1,
    });
    let stopped: Promise<void> | undefined;
    const stop = () =>
      stopped ??= (async () => {
        services.hub.closeAll(CloseCode.ServerRestart, "server restarting");
        // Let the closing handshakes finish (bounded by WS_CLOSE_TIMEOUT_MS), then end the rest.
        const until = Date.now() + config.net.closeTimeoutMs + 500;
        while (server.guard.stats().websockets > 0 && Date.now() < until) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await deadline(server.close({ terminate: true }), 10_000, "the guard to stop");
        await deadline(services.close(), 10_000, "the services to close");
      })();
    return {
      port: server.port,
      origin: `http://127.0.0.1:${server.port}`,
      origin6: ipv6 ? `http://[::1]:${server.port}` : null,
      services,
      server,
      output: () => text,
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (err) {
    await services.close();
    throw err;
  }
}

async function hasIpv6Loopback(): Promise<boolean> {
  try {
    const l = Deno.listen({ hostname: "::1", port: 0 });
    l.close();
    return await Promise.resolve(true);
  } catch {
    return false;
  }
}
