/**
 * Runs the real application (`deno serve main.ts`) as a child process for end-to-end
 * tests, on a free port of 127.0.0.1 with an in-memory KV unless told otherwise.
 *
 * Use it only where the test is about processes (a restart, SIGKILL, shutdown, several
 * isolates, what the process prints); for HTTP and WebSocket alone, `serveApp` of
 * `tests/_app.ts` runs the same handler in the test's own process.
 */
import { type Child, spawnChild } from "./_deadline.ts";

const ROOT = new URL("../", import.meta.url);

/** A running server process. */
export interface AppProcess extends AsyncDisposable {
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  origin: string;
  port: number;
  /** The process id. */
  pid: number;
  /** Everything the process printed so far. */
  output(): string;
  /**
   * Waits for `pattern` in the output (bounded by `ms`, the error naming `what` and
   * showing the output), e.g. a log line the test depends on.
   */
  waitForOutput(pattern: RegExp, ms: number, what: string): Promise<RegExpMatchArray>;
  /**
   * Sends SIGTERM and waits for the process to exit; SIGKILL after the grace period
   * (`StartAppOptions.graceMs`). Then waits for its output pipes to close. Idempotent.
   */
  stop(): Promise<void>;
  /** Sends SIGKILL (no clean-up at all) and waits for the process to exit. */
  kill(): Promise<void>;
}

/** Options for {@linkcode startApp}. */
export interface StartAppOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /**
   * Extra environment variables. `undefined` drops one of the defaults below (e.g.
   * `KV_PATH`); the test process's own environment is still inherited.
   */
  env?: Record<string, string | undefined>;
  /** Run `deno serve --parallel` with this many isolates (`DENO_JOBS`). */
  parallel?: number;
  /**
   * Serve as `deno task start` does, through the connection guard (`scripts/serve.ts`),
   * instead of `deno serve main.ts` (Deno Deploy's way).
   */
  guard?: boolean;
  /**
   * Deno flags in place of `-A` (`deno serve` only, not with `guard`): permissions and
   * runtime flags, e.g. Deno Deploy's constraints (tests/deploy_constraints_test.ts).
   */
  flags?: string[];
  /** How long to wait for "Listening on", ms. Default 60 000 (a loaded machine bundles slowly). */
  timeoutMs?: number;
  /**
   * How long `stop()` lets the process exit after SIGTERM before SIGKILL, ms. Default
   * 6 000: the app's own shutdown ends the process within 5 s (`lib/app/shutdown.ts`).
   */
  graceMs?: number;
}

/** Starts the app (`deno serve -A main.ts`, or the guarded server) and resolves once it listens. */
export async function startApp(options: StartAppOptions = {}): Promise<AppProcess> {
  const env: Record<string, string> = {
    KV_PATH: ":memory:",
    LOG_LEVEL: "warn",
    NO_COLOR: "1",
    // Test-only: a cheap work factor so each start hashes the demo password quickly.
    PBKDF2_ITERATIONS: "1000",
  };
  if (options.guard && options.flags) {
    throw new Error("startApp: `flags` apply to deno serve, not to the guarded server");
  }
  let args: string[];
  if (options.guard) {
    args = ["run", "-A", "--unstable-net", "scripts/serve.ts"];
    Object.assign(env, {
      PORT: String(options.port ?? 0),
      HOSTNAME: "127.0.0.1",
      DENO_JOBS: String(options.parallel ?? 1),
    });
  } else {
    const flags = options.flags ?? ["-A"];
    args = ["serve", ...flags, "--port", String(options.port ?? 0), "--host", "127.0.0.1"];
    if (options.parallel) {
      args.push("--parallel");
      env.DENO_JOBS = String(options.parallel);
    }
    args.push("main.ts");
  }
  const how = options.guard ? "guarded server" : "deno serve";
  const name = options.parallel
    ? `the app (${how}, ${options.parallel} isolates)`
    : `the app (${how})`;
  const merged: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...env, ...options.env })) {
    if (value !== undefined) merged[key] = value;
  }
  const child: Child = spawnChild(Deno.execPath(), args, { cwd: ROOT, env: merged, name });
  let port: number;
  try {
    const [, listening] = await child.waitForOutput(
      /Listening on https?:\/\/[^:\s]+:(\d+)/,
      options.timeoutMs ?? 60_000,
      `${name} to print "Listening on"`,
    );
    port = Number(listening);
  } catch (err) {
    await child.kill();
    throw err;
  }
  const graceMs = options.graceMs ?? 6_000;
  const stop = async () => {
    await child.stop({ graceMs });
  };
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid,
    output: () => child.output(),
    waitForOutput: (pattern, ms, what) => child.waitForOutput(pattern, ms, what),
    stop,
    async kill() {
      await child.kill();
    },
    [Symbol.asyncDispose]: stop,
  };
}
