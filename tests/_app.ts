/**
 * The application in the test's own process: the services `main.ts` builds and the
 * handler of `createHandler(manifest)`, served by `Deno.serve` on a free port of
 * 127.0.0.1 (for real sockets and browsers) and callable directly with
 * {@linkcode InProcessApp.request} (no network, as Fresh 2's `FakeServer`).
 *
 * Use it whenever a test needs only HTTP or WebSocket; `startApp` of `tests/_server.ts`
 * spawns `deno serve` for tests about processes. One in-process app at a time: routes
 * find the services through a module-level registration (`lib/app/context.ts`).
 */
import { createHandler } from "$fresh/server.ts";
import freshConfig from "../fresh.config.ts";
import manifest from "../fresh.gen.ts";
import { loadConfig } from "../lib/app/config.ts";
import { setAppServices } from "../lib/app/context.ts";
import { createLogger } from "../lib/app/log.ts";
import { type AppServices, createServices } from "../lib/app/services.ts";
import { CloseCode } from "../lib/protocol/codes.ts";
import { DEMO_PASSWORD } from "./_auth.ts";
import { deadline } from "./_deadline.ts";

/** The application running inside the test process. */
export interface InProcessApp extends AsyncDisposable {
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  origin: string;
  port: number;
  /** The services routes see (`ctx.state.services`). */
  services: AppServices;
  /** The log lines written so far, one JSON object per line. */
  output(): string;
  /**
   * Calls the handler directly with a request for `path` (no socket), within
   * `timeoutMs` (default 15 000), as if it came from `ip` (default 127.0.0.1).
   */
  request(
    path: string,
    init?: RequestInit & { timeoutMs?: number; ip?: string },
  ): Promise<Response>;
  /**
   * Closes every socket with 4000 (as SIGTERM does), stops the server and the services,
   * each within a deadline. Idempotent.
   */
  stop(): Promise<void>;
}

/** Options for {@linkcode serveApp}. */
export interface ServeAppOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /**
   * Environment variables as `deno serve main.ts` would read them (README's table).
   * Defaults: `KV_PATH=:memory:`, `LOG_LEVEL=warn`, `PBKDF2_ITERATIONS=1000` and
   * `DEMO_PASSWORD` of `tests/_auth.ts`.
   */
  env?: Record<string, string>;
}

/** Deadline for each step of `stop()`, ms. */
const STOP_STEP_MS = 10_000;
/** Keep at most this many characters of log output. */
const MAX_OUTPUT_CHARS = 4_000_000;

let running = false;
/** A build folder that never exists, so `createHandler` bundles the current islands. */
const UNUSED_BUILD_DIR = `_fresh_unused_by_tests_${crypto.randomUUID()}`;

/** Builds the services and the handler and serves them; resolves once listening. */
export async function serveApp(options: ServeAppOptions = {}): Promise<InProcessApp> {
  if (running) {
    throw new Error("Cannot serve the app in process: another in-process app is still running");
  }
  running = true;
  const env: Record<string, string> = {
    KV_PATH: ":memory:",
    LOG_LEVEL: "warn",
    // Test-only: a cheap work factor so hashing the demo password is quick.
    PBKDF2_ITERATIONS: "1000",
    // A known demo password: nothing random is printed, and tests can sign in.
    DEMO_PASSWORD,
    ...options.env,
  };
  const config = loadConfig({ get: (name) => env[name] });
  let text = "";
  const log = createLogger(config.logLevel, {}, (_level, line) => {
    text += line + "\n";
    if (text.length > MAX_OUTPUT_CHARS) text = text.slice(-MAX_OUTPUT_CHARS);
  });
  let services: AppServices | undefined;
  try {
    services = await deadline(createServices(config, { log }), 60_000, "the app's services");
    setAppServices(services);
    // Always bundled fresh into memory (≈ 0.3 s), never from `_fresh/`: a build left over
    // from before an island changed must not be what a test checks.
    const handler = await deadline(
      createHandler(manifest, { ...freshConfig, build: { outDir: UNUSED_BUILD_DIR } }),
      120_000,
      "createHandler to bundle the islands",
    );
    const ac = new AbortController();
    const server = Deno.serve(
      { port: options.port ?? 0, hostname: "127.0.0.1", signal: ac.signal, onListen() {} },
      handler,
    );
    const port = server.addr.port;
    const origin = `http://127.0.0.1:${port}`;
    const app = services;
    let stopped: Promise<void> | undefined;
    const stop = () =>
      stopped ??= (async () => {
        try {
          app.hub.closeAll(CloseCode.ServerRestart, "server restarting");
          ac.abort();
          await deadline(server.finished, STOP_STEP_MS, "the in-process server to finish");
          await deadline(app.close(), STOP_STEP_MS, "the in-process app's services to close");
        } finally {
          running = false;
        }
      })();
    return {
      origin,
      port,
      services: app,
      output: () => text,
      request(path, init = {}) {
        const { timeoutMs = 15_000, ip = "127.0.0.1", ...rest } = init;
        const req = new Request(new URL(path, origin), rest);
        const info = { remoteAddr: { transport: "tcp" as const, hostname: ip, port: 1 } };
        return deadline(handler(req, info), timeoutMs, `the app to answer ${req.method} ${path}`);
      },
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (err) {
    running = false;
    await services?.close();
    throw err;
  }
}
