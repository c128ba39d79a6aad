/**
 * Runs the real application (`deno serve main.ts`) as a child process for end-to-end
 * tests, on a free port of 127.0.0.1 with an in-memory KV unless told otherwise.
 */

const ROOT = new URL("../", import.meta.url);

/** A running server process. */
export interface AppProcess {
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  origin: string;
  port: number;
  /** Everything the process printed so far. */
  output(): string;
  /** Sends SIGTERM and waits for the process to exit. */
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
  /** How long to wait for "Listening on", ms. Default 30 000. */
  timeoutMs?: number;
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
  const child = new Deno.Command(Deno.execPath(), {
    args: [...args, "main.ts"],
    cwd: ROOT,
    env: { ...env, ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  let onText: (() => void) | null = null;
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      onText?.();
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const exited = child.status;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`Cannot start app: no "Listening on" within the timeout\n${text}`));
    }, options.timeoutMs ?? 30_000);
    const check = () => {
      const m = text.match(/Listening on https?:\/\/[^:\s]+:(\d+)/);
      if (m) {
        clearTimeout(timer);
        onText = null;
        resolve(Number(m[1]));
      }
    };
    onText = check;
    check();
    exited.then((s) => {
      clearTimeout(timer);
      reject(new Error(`Cannot start app: exited with ${s.code}\n${text}`));
    });
  });
  let stopped: Promise<void> | undefined;
  const end = (signal: Deno.Signal) => {
    stopped ??= (async () => {
      try {
        child.kill(signal);
      } catch {
        // already exited
      }
      await exited;
      await pumps;
    })();
    return stopped;
  };
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    output: () => text,
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
  };
}
