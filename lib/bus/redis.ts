/**
 * Redis connections for the whole app: one factory ({@linkcode openRedis}) that every
 * Redis user shares (the bus engine today; presence, limits and leases can take the same
 * client), with a deadline on connecting and on every command, bounded reconnects, and
 * errors that name the variable the URL came from without echoing its password.
 *
 * The client is ioredis (`npm:ioredis`), loaded on first use: an app without `REDIS_URL`
 * never loads it (it also reads the environment when loaded).
 *
 * @module
 */
import type { Redis } from "ioredis";

/** A connected Redis client (ioredis, RESP2). */
export type RedisClient = Redis;

/** Longest `REDIS_URL` accepted, characters. */
export const MAX_REDIS_URL_CHARS = 2_048;

/** What {@linkcode parseRedisUrl} reads from a URL. */
export interface RedisUrl {
  /** `rediss:` (TLS) or `redis:`. */
  tls: boolean;
  host: string;
  port: number;
  /** Database index, `/N` in the URL; default 0. */
  db: number;
  /** The URL with its password replaced by `***`, for messages and logs. */
  redacted: string;
}

/** The URL with any password replaced by `***` (never throws). */
export function redactRedisUrl(raw: string): string {
  return raw.replace(/^([a-z]+:\/\/[^:@/]*:)[^@/]*@/i, "$1***@").slice(0, MAX_REDIS_URL_CHARS);
}

/**
 * Checks a Redis URL: `redis://[user[:password]@]host[:port][/db]`, or `rediss://` for
 * TLS; db 0–15 (Redis's default count). Throws an error naming `name` (the variable it
 * came from) and the URL with its password hidden.
 */
export function parseRedisUrl(raw: string, name = "REDIS_URL"): RedisUrl {
  const redacted = redactRedisUrl(raw);
  const fail = (why: string) =>
    new Error(
      `Cannot read ${name}: ${why}; expected redis://[user:password@]host[:port][/db] or rediss://…, got "${redacted}"`,
    );
  if (raw.length > MAX_REDIS_URL_CHARS) throw fail(`longer than ${MAX_REDIS_URL_CHARS} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw fail("not a URL");
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw fail(`the scheme ${url.protocol} is not redis: or rediss:`);
  }
  if (url.hostname === "") throw fail("no host");
  const port = url.port === "" ? 6379 : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw fail("bad port");
  const path = url.pathname.replace(/^\//, "");
  if (path !== "" && !/^(?:[0-9]|1[0-5])$/.test(path)) throw fail(`database "${path}" is not 0–15`);
  if (url.search !== "" || url.hash !== "") throw fail("no query or fragment is read");
  return {
    tls: url.protocol === "rediss:",
    host: url.hostname,
    port,
    db: Number(path || 0),
    redacted,
  };
}

/** Options of {@linkcode openRedis}. */
export interface OpenRedisOptions {
  /** The variable the URL came from, for messages. Default `REDIS_URL`. */
  name?: string;
  /** Deadline for connecting (at start and on each reconnect), ms. Default 5 000. */
  connectTimeoutMs?: number;
  /**
   * Deadline for every command, ms: past it the command rejects with "Command timed out"
   * (the server may still run it). Default 2 000.
   */
  commandTimeoutMs?: number;
  /** Longest pause between two reconnect attempts, ms. Default 2 000. */
  maxReconnectDelayMs?: number;
  /** Shown by `CLIENT LIST`. */
  connectionName?: string;
  /** Connection errors (refused, reset, timed out), once per state change; default: none. */
  onError?: (err: Error) => void;
}

/** Reports each distinct connection error once, until the connection is ready again. */
function reportErrors(client: RedisClient, onError?: (err: Error) => void): void {
  let last = "";
  // ioredis emits `error` on every failed attempt; an EventEmitter without a listener
  // would throw it.
  client.on("error", (err: Error) => {
    if (err.message === last) return;
    last = err.message;
    onError?.(err);
  });
  client.on("ready", () => last = "");
}

/** Connects `client` within `ms`; on failure disconnects it and rethrows. */
async function connectWithin(client: RedisClient, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } catch (err) {
    client.disconnect();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Opens a connection to `url` and waits until it is ready: commands fail fast while the
 * connection is down (no offline queue, nothing resent after a reconnect, so a publish is
 * never run twice behind the caller's back), each has a deadline, and the client
 * reconnects by itself with capped exponential backoff. Throws, naming `name` and the
 * redacted URL, when the URL is malformed or Redis cannot be reached within
 * `connectTimeoutMs`. Close it with `client.quit()` or `client.disconnect()`.
 */
export async function openRedis(url: string, options: OpenRedisOptions = {}): Promise<RedisClient> {
  const name = options.name ?? "REDIS_URL";
  const parsed = parseRedisUrl(url, name);
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  const maxDelay = options.maxReconnectDelayMs ?? 2_000;
  const { Redis } = await import("ioredis");
  const client = new Redis(url, {
    lazyConnect: true,
    protocol: 2,
    connectTimeout: connectTimeoutMs,
    commandTimeout: options.commandTimeoutMs ?? 2_000,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    connectionName: options.connectionName,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times - 1, 10), maxDelay),
  });
  reportErrors(client, options.onError);
  try {
    await connectWithin(client, connectTimeoutMs);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`Cannot connect to Redis at ${name}=${parsed.redacted}: ${why}`, {
      cause: err,
    });
  }
  return client;
}

/**
 * A second connection like `client` (same server, deadlines and reconnects) for blocking
 * commands such as `XREAD BLOCK blockMs`: its command deadline is the block plus the
 * client's own. Connected when it resolves; close it with `disconnect()`.
 */
export async function openBlockingConnection(
  client: RedisClient,
  blockMs: number,
  onError?: (err: Error) => void,
): Promise<RedisClient> {
  const timeout = Number(client.options.commandTimeout ?? 2_000);
  const blocking = client.duplicate({ commandTimeout: blockMs + timeout });
  reportErrors(blocking, onError);
  await connectWithin(blocking, Number(client.options.connectTimeout ?? 5_000));
  return blocking;
}

/**
 * Disconnects `client` at once (pending commands fail) and resolves once its socket is
 * closed, or after `ms` (default 2 000) at most. Idempotent.
 */
export async function closeRedis(client: RedisClient, ms = 2_000): Promise<void> {
  if (client.status === "end") return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ended = new Promise<void>((resolve) => {
    client.once("end", resolve);
    timer = setTimeout(resolve, ms);
  });
  client.disconnect();
  await ended;
  clearTimeout(timer);
}

/** A Lua script run by its SHA-1 (`EVALSHA`), sent whole again when Redis lost it. */
export interface RedisScript {
  readonly source: string;
  run(client: RedisClient, keys: string[], args: (string | number)[]): Promise<unknown>;
}

/** Wraps `source` for {@linkcode RedisScript.run}. */
export function redisScript(source: string): RedisScript {
  let sha: Promise<string> | undefined;
  const digest = async () => {
    const bytes = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(source));
    return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
  };
  return {
    source,
    async run(client, keys, args) {
      sha ??= digest();
      try {
        return await client.evalsha(await sha, keys.length, ...keys, ...args);
      } catch (err) {
        // A restarted (or flushed) Redis forgot the script: send it whole, once.
        if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
        return await client.eval(source, keys.length, ...keys, ...args);
      }
    },
  };
}
