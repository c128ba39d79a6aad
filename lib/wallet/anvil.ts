/**
 * The embedded dev chain: anvil (Foundry), from the npm package `@foundry-rs/anvil`,
 * whose optional dependency for this platform ships the binary. Deno keeps npm packages
 * in its cache, so the binary's path is found by resolving the platform package there;
 * `ANVIL_PATH` overrides it (a Foundry install). Used by `deno task start`
 * (scripts/start.ts), the tests and the ingest benchmark.
 *
 * {@linkcode startAnvil} listens on 127.0.0.1 and a free port, drains the child's output
 * continuously (the newest 16 KiB are kept for error messages), and `stop()` ends it:
 * SIGTERM, then SIGKILL after a grace period, then waits (bounded) for the exit and the
 * pipes.
 *
 * @module
 */

/** The package version pinned in deno.json's import map (`@foundry-rs/anvil`). */
export const ANVIL_VERSION = "1.7.1";

/** Output kept for error messages, characters. */
const KEEP_OUTPUT = 16_384;
/** Bounded waits after a kill: the exit, then the pipes. */
const AFTER_KILL_MS = 5_000;

/** The npm package holding the binary for this platform, or null when none exists. */
export function anvilPlatformPackage(
  os: string = Deno.build.os,
  arch: string = Deno.build.arch,
): string | null {
  const cpu = arch === "x86_64" ? "amd64" : arch === "aarch64" ? "arm64" : null;
  if (!cpu) return null;
  if (os === "linux" || os === "darwin") return `@foundry-rs/anvil-${os}-${cpu}`;
  if (os === "windows" && cpu === "amd64") return "@foundry-rs/anvil-win32-amd64";
  return null;
}

/**
 * The path of the anvil binary: `ANVIL_PATH` when set, else the platform package's
 * `bin/anvil` in Deno's npm cache (downloaded on first use; its exec bit is set if the
 * cache lost it). Throws a clear error on an unsupported platform.
 */
export async function anvilBinary(env: { get(name: string): string | undefined } = Deno.env) {
  const override = env.get("ANVIL_PATH");
  if (override) return override;
  const pkg = anvilPlatformPackage();
  if (!pkg) {
    throw new Error(
      `Cannot start anvil: no @foundry-rs/anvil binary for ${Deno.build.os}/${Deno.build.arch}; set ANVIL_PATH or CHAIN_RPC_URL`,
    );
  }
  const specifier = `npm:${pkg}@${ANVIL_VERSION}/package.json`;
  // Importing the manifest makes Deno fetch the package into its cache (once).
  await import(specifier, { with: { type: "json" } });
  const manifest = new URL(import.meta.resolve(specifier));
  if (manifest.protocol !== "file:") {
    throw new Error(`Cannot start anvil: ${pkg} did not resolve to a file (${manifest.href})`);
  }
  const binary = new URL(`bin/anvil${Deno.build.os === "windows" ? ".exe" : ""}`, manifest);
  const path = decodeURIComponent(binary.pathname);
  const info = await Deno.stat(path);
  if (Deno.build.os !== "windows" && ((info.mode ?? 0o755) & 0o111) === 0) {
    await Deno.chmod(path, 0o755);
  }
  return path;
}

/** Options for {@linkcode startAnvil}. */
export interface AnvilOptions {
  /** The binary; default {@linkcode anvilBinary}. */
  binary?: string;
  /** Interval mining every this many seconds; 0 (default) mines only on demand. */
  blockTimeSec?: number;
  /** Automine (a block per transaction) when `blockTimeSec` is 0. Default false. */
  automine?: boolean;
  /** The chain id. Default 31337. */
  chainId?: number;
  /** Extra arguments. */
  args?: string[];
  /** How long to wait for anvil to listen, ms. Default 20 000. */
  startTimeoutMs?: number;
}

/** A running anvil. */
export interface AnvilProcess extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** The newest output (at most 16 KiB). */
  output(): string;
  /** Settles when the process has exited. */
  readonly status: Promise<Deno.CommandStatus>;
  /** SIGTERM, SIGKILL after `graceMs` (default 2 000), then the exit and the pipes. */
  stop(graceMs?: number): Promise<void>;
}

function send(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // already exited
  }
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)),
        ms,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Starts anvil on 127.0.0.1 and a free port; resolves once it listens. */
export async function startAnvil(options: AnvilOptions = {}): Promise<AnvilProcess> {
  const binary = options.binary ?? await anvilBinary();
  const args = [
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--chain-id",
    String(options.chainId ?? 31337),
  ];
  const blockTime = options.blockTimeSec ?? 0;
  if (blockTime > 0) args.push("--block-time", String(blockTime));
  else if (!options.automine) args.push("--no-mining");
  args.push(...(options.args ?? []));
  const child = new Deno.Command(binary, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const listening = Promise.withResolvers<number>();
  listening.promise.catch(() => {}); // awaited below; a late exit must not go unhandled
  const readers = [child.stdout.getReader(), child.stderr.getReader()];
  const drained = Promise.all(readers.map(async (reader) => {
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        if (text.length > KEEP_OUTPUT * 2) text = text.slice(-KEEP_OUTPUT);
        const match = /Listening on [0-9.]+:(\d+)/.exec(text);
        if (match) listening.resolve(Number(match[1]));
      }
    } catch {
      // cancelled after a kill whose pipes stayed open
    }
  }));
  let exited = false;
  const status = child.status.finally(() => {
    exited = true;
    listening.reject(
      new Error(`Cannot start anvil: it exited first; its output:\n${text.slice(-2_000)}`),
    );
  });
  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 2_000) =>
    stopping ??= (async () => {
      if (!exited) {
        send(child, "SIGTERM");
        await within(status, graceMs, "anvil to exit after SIGTERM").catch(() =>
          send(child, "SIGKILL")
        );
      }
      await within(status, AFTER_KILL_MS, "anvil to exit after SIGKILL");
      await within(drained, AFTER_KILL_MS, "anvil's pipes to close").catch(async () => {
        await Promise.all(readers.map((r) => r.cancel().catch(() => {})));
      });
    })();
  let port: number;
  try {
    port = await within(listening.promise, options.startTimeoutMs ?? 20_000, "anvil to listen");
  } catch (err) {
    await stop(0).catch(() => {});
    throw err;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid,
    output: () => text.slice(-KEEP_OUTPUT),
    status,
    stop,
    [Symbol.asyncDispose]: () => stop(),
  };
}
