/**
 * Application configuration, read from environment variables once at start.
 * README's configuration table lists the same variables and defaults.
 */

/** Log verbosity, most to least. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Everything configurable, with defaults applied. */
export interface AppConfig {
  /** `PORT`: TCP port. Default 8000; 0 picks a free port. */
  port: number;
  /** `HOSTNAME`: interface to listen on. Default `0.0.0.0`. */
  hostname: string;
  /** `KV_PATH`: Deno KV file, or `:memory:`. Default `./data/realtime.kv`. */
  kvPath: string;
  /** `MARKET_TICK_MS`: simulated market tick interval. Default 250. */
  marketTickMs: number;
  /** `MARKET_SEED`: PRNG seed of the simulated market. Default: random per start. */
  marketSeed: number;
  /** `LOG_LEVEL`: `debug`, `info`, `warn` or `error`. Default `info`. */
  logLevel: LogLevel;
}

/** Reads just what {@linkcode loadConfig} needs from the environment. */
export interface EnvReader {
  get(name: string): string | undefined;
}

const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

function integer(env: EnvReader, name: string, fallback: number, min: number, max: number): number {
  const raw = env.get(name);
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`Cannot read ${name}: expected an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** Builds the configuration from `env`; throws a clear error on a malformed value. */
export function loadConfig(env: EnvReader): AppConfig {
  const logLevel = (env.get("LOG_LEVEL") ?? "info").toLowerCase();
  if (!LEVELS.includes(logLevel as LogLevel)) {
    throw new Error(
      `Cannot read LOG_LEVEL: expected one of ${LEVELS.join(", ")}, got "${logLevel}"`,
    );
  }
  return {
    port: integer(env, "PORT", 8000, 0, 65535),
    hostname: env.get("HOSTNAME") || "0.0.0.0",
    kvPath: env.get("KV_PATH") || "./data/realtime.kv",
    marketTickMs: integer(env, "MARKET_TICK_MS", 250, 10, 60_000),
    marketSeed: integer(env, "MARKET_SEED", Math.floor(Math.random() * 2 ** 31), 0, 2 ** 32 - 1),
    logLevel: logLevel as LogLevel,
  };
}
