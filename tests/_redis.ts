/**
 * A redis-server child for tests: on a free port of 127.0.0.1, in a temporary folder,
 * without persistence unless asked, always stopped (use it with `await using`). Tests that
 * need it skip, saying why, where redis-server is not installed (`.ci/run` installs it).
 */
import { type Child, spawnChild } from "./_deadline.ts";

/** Whether `redis-server` can be run here. */
export async function haveRedisServer(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("redis-server", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

/** The message a test prints when it skips for want of redis-server. */
export const NO_REDIS_SERVER =
  "redis-server is not installed: skipping (apt-get install redis-server; .ci/run installs it)";

/** Options of {@linkcode startRedis}. */
export interface StartRedisOptions {
  /**
   * Keep data across restarts: an append-only file synced on every write (nothing lost,
   * even on SIGKILL). Default: no persistence at all.
   */
  persist?: boolean;
  /** Port; default a free one. */
  port?: number;
}

/** A redis-server started by {@linkcode startRedis}. */
export interface TestRedis extends AsyncDisposable {
  /** `redis://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  /** The current server process (a new one after {@linkcode TestRedis.restart}). */
  child(): Child;
  /**
   * Stops the server (SIGTERM; `kill: true` for SIGKILL) and starts a new one on the same
   * port and folder: with `persist`, it loads what the first one kept.
   */
  restart(options?: { kill?: boolean }): Promise<void>;
  /** SIGSTOP: the server keeps its sockets but answers nothing until {@linkcode resume}. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Stops the server and removes its folder. Idempotent. */
  stop(): Promise<void>;
}

/** A TCP port of 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Starts redis-server and waits until it accepts connections (within 10 s). */
export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedis> {
  const dir = await Deno.makeTempDir({ prefix: "redis-test-" });
  let port = options.port ?? freePort();
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--daemonize",
    "no",
    "--loglevel",
    "notice", // the ready line is a notice
    "--maxmemory",
    "256mb",
    "--maxmemory-policy",
    "noeviction",
    ...(options.persist
      ? ["--appendonly", "yes", "--appendfsync", "always"]
      : ["--appendonly", "no"]),
  ];
  const launch = async () => {
    const child = spawnChild("redis-server", args, { name: `redis-server :${port}` });
    try {
      await child.waitForOutput(/Ready to accept connections/, 10_000, "redis-server to be ready");
    } catch (err) {
      await child.kill();
      throw err;
    }
    return child;
  };
  let first: Child | undefined;
  // A free port can be taken by another test between the check and the bind: try others.
  for (let attempt = 1; !first; attempt++) {
    try {
      first = await launch();
    } catch (err) {
      if (options.port !== undefined || attempt >= 3) {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
        throw err;
      }
      port = freePort();
      args[args.indexOf("--port") + 1] = String(port);
    }
  }
  let current: Child = first;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      try {
        Deno.kill(current.pid, "SIGCONT"); // a paused server would not see SIGTERM
      } catch {
        // already gone
      }
      await current.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    })();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    child: () => current,
    async restart(restartOptions = {}) {
      if (restartOptions.kill) await current.kill();
      else await current.stop();
      current = await launch();
    },
    pause() {
      Deno.kill(current.pid, "SIGSTOP");
    },
    resume() {
      Deno.kill(current.pid, "SIGCONT");
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
