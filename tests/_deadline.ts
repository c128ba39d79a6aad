/**
 * Bounded waits for tests: a deadline on any promise, a poll with a deadline, and child
 * processes that are always cleaned up. Every timeout fails with a message naming what
 * was awaited, so a stuck test says where it stuck instead of hanging the run.
 */

/** The message every expired wait of this module uses. */
export function timeoutMessage(ms: number, what: string): string {
  return `Timed out after ${ms} ms waiting for ${what}`;
}

/**
 * Resolves or rejects as `promise` does, or rejects with
 * `Timed out after <ms> ms waiting for <what>` once `ms` have passed. The timer is
 * cleared either way, so the op sanitizer stays green.
 */
export function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(timeoutMessage(ms, what))), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** What a value is once known to be truthy. */
export type Truthy<T> = Exclude<T, false | 0 | 0n | "" | null | undefined>;

/** Options for {@linkcode waitFor}. */
export interface WaitForOptions {
  /** Give up after this long, ms. */
  timeoutMs: number;
  /** What is awaited, for the error message ("the lease to move to B"). */
  what: string;
  /** Pause between two checks, ms. Default 20. */
  intervalMs?: number;
  /** Appended to the timeout message: the last state seen, to make a failure readable. */
  detail?: () => string;
}

/**
 * Polls `predicate` until it returns a truthy value and resolves with that value, for
 * state that has no event to await. Each check is itself bounded by what is left of the
 * deadline; the whole wait fails with `Timed out after <ms> ms waiting for <what>`.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitForOptions,
): Promise<Truthy<T>> {
  const { timeoutMs, what } = options;
  const interval = options.intervalMs ?? 20;
  const end = performance.now() + timeoutMs;
  for (;;) {
    const left = Math.max(1, Math.ceil(end - performance.now()));
    const value = await deadline(Promise.resolve().then(predicate), left, what)
      .catch((err: unknown) => {
        throw err instanceof Error && err.message === timeoutMessage(left, what)
          ? withDetail(timeoutMs, what, options.detail)
          : err;
      });
    if (value) return value as Truthy<T>;
    if (performance.now() >= end) throw withDetail(timeoutMs, what, options.detail);
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, left)));
  }
}

function withDetail(ms: number, what: string, detail?: () => string): Error {
  const extra = detail ? `; last seen: ${detail()}` : "";
  return new Error(timeoutMessage(ms, what) + extra);
}

/** Options for {@linkcode fetchWithin}: fetch's own, plus a deadline. */
export interface FetchWithinInit extends RequestInit {
  /** The whole exchange (headers and body) must finish within this, ms. Default 15 000. */
  timeoutMs?: number;
  /** A custom HTTP client (`Deno.createHttpClient`), as Deno's `fetch` accepts. */
  client?: Deno.HttpClient;
}

/**
 * `fetch` with a deadline on the whole exchange: the request is aborted, and the fetch
 * or a later body read rejects with `Timed out after <ms> ms waiting for GET <url>`.
 * The abort timer does not keep the process alive and needs no clean-up.
 */
export async function fetchWithin(
  input: string | URL,
  init: FetchWithinInit = {},
): Promise<Response> {
  const { timeoutMs = 15_000, ...rest } = init;
  const what = `${rest.method ?? "GET"} ${input}`;
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Error(timeoutMessage(timeoutMs, what))),
    timeoutMs,
  );
  Deno.unrefTimer(timer);
  const signal = rest.signal
    ? AbortSignal.any([rest.signal, controller.signal])
    : controller.signal;
  try {
    const res = await fetch(input, { ...rest, signal });
    // No body (or none left to read): the timer has nothing more to guard.
    if (!res.body) clearTimeout(timer);
    return res;
  } catch (err) {
    clearTimeout(timer);
    throw controller.signal.aborted ? controller.signal.reason : err;
  }
}

/** How a child process is started by {@linkcode spawnChild}. */
export interface ChildOptions {
  /** Working directory. */
  cwd?: string | URL;
  /** Extra environment variables (added to the inherited environment). */
  env?: Record<string, string>;
  /** A name for messages ("the app", "deno serve --parallel"). Default: the command line. */
  name?: string;
  /** Keep at most this many characters of output (the newest). Default 4 000 000. */
  maxOutputChars?: number;
}

/** Options for {@linkcode Child.stop}. */
export interface StopOptions {
  /** How long the child may take to exit after SIGTERM before SIGKILL, ms. Default 3 000. */
  graceMs?: number;
}

/** How long exit after SIGKILL, and the drain of the pipes after exit, may take. */
const AFTER_KILL_MS = 5_000;
const DRAIN_MS = 5_000;

/** A child process whose output is always drained and which is always cleaned up. */
export interface Child extends AsyncDisposable {
  readonly pid: number;
  /** Settles when the process has exited. */
  readonly status: Promise<Deno.CommandStatus>;
  /** Everything printed on stdout and stderr so far (interleaved as it arrived). */
  output(): string;
  /**
   * Resolves with the first match of `pattern` in the output; rejects when `ms` pass
   * first (naming `what`, with the output so far) or when the process exits first.
   */
  waitForOutput(pattern: RegExp, ms: number, what: string): Promise<RegExpMatchArray>;
  /**
   * SIGTERM, up to `graceMs` for the process to exit, then SIGKILL; then waits (bounded)
   * for the exit and for both pipes to be drained. Idempotent; resolves with the status.
   */
  stop(options?: StopOptions): Promise<Deno.CommandStatus>;
  /** SIGKILL at once (no clean-up in the child), then as {@linkcode stop}. */
  kill(): Promise<Deno.CommandStatus>;
}

/** Children not yet known to have exited: killed if the test process exits first. */
const live = new Set<Deno.ChildProcess>();
let unloadHooked = false;

function hookUnload(): void {
  if (unloadHooked) return;
  unloadHooked = true;
  globalThis.addEventListener("unload", () => {
    for (const child of live) signal(child, "SIGKILL");
  });
}

function signal(child: Deno.ChildProcess, sig: Deno.Signal): void {
  try {
    child.kill(sig);
  } catch {
    // It has already exited.
  }
}

/**
 * Spawns `command args…` with stdin closed and stdout/stderr piped and drained
 * continuously (a child never blocks on a full pipe). Use it with `await using`, or call
 * `stop()` in a `finally`: the child is then stopped whatever the test did.
 */
export function spawnChild(
  command: string | URL,
  args: string[],
  options: ChildOptions = {},
): Child {
  const name = options.name ??
    [String(command), ...args].join(" ").replace(/\s+/g, " ").slice(0, 80);
  const maxChars = options.maxOutputChars ?? 4_000_000;
  const proc = new Deno.Command(command, {
    args,
    cwd: options.cwd,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  live.add(proc);
  hookUnload();
  let text = "";
  const listeners = new Set<() => void>();
  const readers = [proc.stdout.getReader(), proc.stderr.getReader()];
  const pump = async (reader: ReadableStreamDefaultReader<Uint8Array>) => {
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        if (text.length > maxChars) text = text.slice(-maxChars);
        for (const listener of listeners) listener();
      }
    } catch {
      // Cancelled by stop() after a drain timeout.
    }
  };
  const drained = Promise.all(readers.map(pump));
  let exited = false;
  const status = proc.status.finally(() => {
    exited = true;
    live.delete(proc);
    for (const listener of listeners) listener();
  });

  const tail = () => text.slice(-4_000);

  function waitForOutput(pattern: RegExp, ms: number, what: string): Promise<RegExpMatchArray> {
    const found = Promise.withResolvers<RegExpMatchArray>();
    const check = () => {
      const match = text.match(pattern);
      if (match) found.resolve(match);
      else if (exited) {
        found.reject(
          new Error(`Cannot wait for ${what}: ${name} exited first; its output:\n${tail()}`),
        );
      }
    };
    listeners.add(check);
    check();
    return deadline(found.promise, ms, what)
      .catch((err: Error) => {
        throw err.message === timeoutMessage(ms, what)
          ? new Error(`${err.message}; ${name} printed:\n${tail()}`)
          : err;
      })
      .finally(() => listeners.delete(check));
  }

  let stopping: Promise<Deno.CommandStatus> | undefined;
  async function finish(): Promise<Deno.CommandStatus> {
    const result = await deadline(status, AFTER_KILL_MS, `${name} to exit after SIGKILL`);
    try {
      await deadline(drained, DRAIN_MS, `the output pipes of ${name} to close`);
    } catch (err) {
      // Something else (a grandchild?) holds the pipes open: let go of them anyway.
      await Promise.all(readers.map((r) => r.cancel().catch(() => {})));
      throw err;
    }
    return result;
  }
  function stop(stopOptions: StopOptions = {}): Promise<Deno.CommandStatus> {
    const graceMs = stopOptions.graceMs ?? 3_000;
    stopping ??= (async () => {
      if (!exited) {
        signal(proc, "SIGTERM");
        await deadline(status, graceMs, `${name} to exit after SIGTERM`).catch(() => {
          signal(proc, "SIGKILL");
        });
      }
      return await finish();
    })();
    return stopping;
  }
  function kill(): Promise<Deno.CommandStatus> {
    stopping ??= (async () => {
      signal(proc, "SIGKILL");
      return await finish();
    })();
    return stopping;
  }

  return {
    pid: proc.pid,
    status,
    output: () => text,
    waitForOutput,
    stop,
    kill,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}
