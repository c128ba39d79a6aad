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
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Run `deno serve --parallel` with this many isolates (`DENO_JOBS`). */
  parallel?: number;
  /** How long to wait for "Listening on", ms. Default 60 000 (a loaded machine bundles slowly). */
  timeoutMs?: number;
  /**
   * How long `stop()` lets the process exit after SIGTERM before SIGKILL, ms. Default
   * 6 000: the app's own shutdown ends the process within 5 s (`lib/app/shutdown.ts`).
   */
  graceMs?: number;
}

/** Starts `deno serve -A main.ts` and resolves once it listens. */
export async function startApp(options: StartAppOptions = {}): Promise<AppProcess> {
  const args = ["serve", "-A", "--port", String(options.port ?? 0), "--host", "127.0.0.1"];
  const env: Record<string, string> = {
    KV_PATH: ":memory:",
    LOG_LEVEL: "warn",
    NO_COLOR: "1",
    // Test-only: a cheap work factor so each start hashes the demo password quickly.
    PBKDF2_ITERATIONS: "1000",
  };
  if (options.parallel) {
    args.push("--parallel");
    env.DENO_JOBS = String(options.parallel);
  }
  const name = options.parallel
    ? `the app (deno serve --parallel, ${options.parallel})`
    : "the app";
  const child: Child = spawnChild(Deno.execPath(), [...args, "main.ts"], {
    cwd: ROOT,
    env: { ...env, ...options.env },
    name,
  });
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
