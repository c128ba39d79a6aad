/**
 * Application configuration, read from environment variables once at start.
 * README's configuration table lists the same variables and defaults.
 */

import { DEFAULT_LIMITS, type GatewayLimits } from "../gateway/limits.ts";
import { DEFAULT_NET_LIMITS, type NetLimits } from "../net/limits.ts";
import {
  DEFAULT_PBKDF2_ITERATIONS,
  MIN_ANY_PASSWORD_LENGTH,
  MIN_PBKDF2_ITERATIONS,
  MIN_SECRET_BYTES,
  normalizeOrigin,
} from "../auth/mod.ts";
import { parsePriceSources, type PriceSourceConfig } from "../prices/venues/mod.ts";
import { type ChainConfig, parseChainConfig } from "../wallet/config.ts";
import { parseRedisUrl } from "../bus/redis.ts";

/** Log verbosity, most to least. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Everything configurable, with defaults applied. */
export interface AppConfig {
  /** `PORT`: TCP port. Default 8000; 0 picks a free port. */
  port: number;
  /** `HOSTNAME`: interface to listen on. Default `0.0.0.0`. */
  hostname: string;
  /**
   * `KV_PATH`: Deno KV file, or `:memory:`; empty = Deno's default database (the managed
   * KV on Deno Deploy). Default `./data/realtime.kv`, or empty on Deno Deploy.
   */
  kvPath: string;
  /**
   * `KV_URL`: a remote Deno KV (KV Connect, e.g. `https://api.deno.com/databases/<id>/connect`;
   * the token comes from `DENO_KV_ACCESS_TOKEN`). Overrides `KV_PATH`. On Deno Deploy leave
   * both unset: `Deno.openKv()` opens the project's managed KV.
   */
  kvUrl: string | undefined;
  /** Whether KV is remote (a `KV_URL`, or Deno Deploy's managed KV): no KV queues there. */
  kvRemote: boolean;
  /**
   * `REDIS_URL`: `redis://[user:password@]host[:port][/db]` (or `rediss://`): the bus
   * (fan-out, history, recovery) runs on this Redis instead of KV, shared by every process
   * on every host (docs/OPERATIONS.md). Default none: the KV engine.
   */
  redisUrl: string | undefined;
  /** `MARKET_TICK_MS`: the simulated venues' step. Default 250. */
  marketTickMs: number;
  /**
   * `PRICE_ROUND_MS`: the price engine's round (publish decisions, board write); a venue
   * message waits at most this long to be published. Default 100.
   */
  priceRoundMs: number;
  /** `MARKET_SEED`: PRNG seed of the simulated market. Default: random per start. */
  marketSeed: number;
  /** `LOG_LEVEL`: `debug`, `info`, `warn` or `error`. Default `info`. */
  logLevel: LogLevel;
  /** `AUTH_SECRET`: token-signing secret, ≥ 32 bytes. Default: generated once, kept in KV. */
  authSecret: string | undefined;
  /** `ALLOWED_ORIGINS`: comma-separated origins allowed besides the app's own. Default none. */
  allowedOrigins: string[];
  /** `TOKEN_TTL_SEC`: access-token lifetime. Default 900 (15 minutes). */
  tokenTtlSec: number;
  /** `SESSION_TTL_SEC`: login-session lifetime. Default 604 800 (7 days). */
  sessionTtlSec: number;
  /** `DEMO_PASSWORD`: password of the `demo` account, applied at every start. Default: random, printed once. */
  demoPassword: string | undefined;
  /**
   * `PBKDF2_ITERATIONS` — for tests only: lowers the password-hashing work factor so
   * suites run fast. Default 600 000 (OWASP 2023); values below 1 000 are refused.
   */
  pbkdf2Iterations: number;
  /**
   * `SIGNUPS_PER_HOUR_PER_IP`: accounts created per client address and hour, counted in
   * each isolate's memory. Default 5.
   */
  signupsPerHourPerIp: number;
  /** Gateway limits, each from its `WS_*` variable (see {@linkcode LIMIT_ENV}). */
  limits: GatewayLimits;
  /**
   * `NET_GUARD`: whether `deno task start` serves through the connection guard
   * (lib/net/guard.ts; `on`, the default) or plain `deno serve` (`off`: behind a reverse
   * proxy that bounds connections itself, docs/OPERATIONS.md).
   */
  netGuard: boolean;
  /** Connection-guard limits, each from its variable (see {@linkcode NET_LIMIT_ENV}). */
  net: NetLimits;
  /**
   * `PRICE_SOURCES` (comma list of `coinbase`, `binance`, `kraken`, `simulated`; default
   * `simulated`), `PRICE_SYMBOLS` (default the ten pairs) and `COINBASE_WS_URL`,
   * `BINANCE_WS_URL`, `KRAKEN_WS_URL` (ws:// or wss://; default the public endpoints).
   */
  prices: PriceSourceConfig;
  /** `PRICE_DEVIATION_PCT`: publish a quote once it moved this many percent. Default 0.01. */
  priceDeviationPct: number;
  /** `PRICE_HEARTBEAT_MS`: publish every quote at least this often. Default 1 000. */
  priceHeartbeatMs: number;
  /** `PRICE_MAX_AGE_MS`: a venue's price older than this is stale. Default 10 000. */
  priceMaxAgeMs: number;
  /**
   * The chain (lib/wallet/config.ts): `CHAIN`, `CHAIN_RPC_URL`, `CHAIN_WS_URL`,
   * `CHAIN_CONFIRMATIONS`, `CHAIN_FINALITY`, `CHAIN_POLL_MS`, `CHAIN_RPC_TIMEOUT_MS`,
   * `CHAIN_START_BLOCK`, `CHAIN_MEMPOOL`, `CHAIN_NATIVE_SYMBOL` (docs/WALLET.md).
   */
  chain: ChainConfig;
  /**
   * `NOTIFY_BACKEND`: where notification and alert jobs wait — `auto` (default: KV's queue
   * on local KV, the outbox on remote KV), `kv-queue` or `outbox` (lib/bus/JOBS.md).
   */
  notifyBackend: "auto" | "kv-queue" | "outbox";
  /**
   * `NOTIFY_RECOVERY_MS`: how soon a delivery whose isolate died is retried elsewhere (the
   * job claim's and the outbox lease's time to live; the sweep runs as often and resends
   * a lost queue message after 3×). Default 5 000.
   */
  notifyRecoveryMs: number;
  /**
   * `CLUSTER_TTL_MS`: how long after its last beat an isolate counts as dead for the
   * cluster-wide state (lib/cluster): its presence entries and connection slots stop
   * counting, and it is swept. Isolates beat every fifth of it. Default 10 000.
   */
  clusterTtlMs: number;
}

/** The environment variable of each gateway limit. */
export const LIMIT_ENV: Readonly<Record<keyof GatewayLimits, string>> = {
  maxFrameBytes: "WS_MAX_FRAME_BYTES",
  maxPublishBytes: "WS_MAX_PUBLISH_BYTES",
  maxSubscriptions: "WS_MAX_SUBSCRIPTIONS",
  messagesPerSecond: "WS_MESSAGES_PER_SECOND",
  messageBurst: "WS_MESSAGE_BURST",
  floodStrikes: "WS_FLOOD_STRIKES",
  maxConnectionsPerUser: "WS_MAX_CONNECTIONS_PER_USER",
  maxConnectionsPerIp: "WS_MAX_CONNECTIONS_PER_IP",
  upgradesPerSecondPerIp: "WS_UPGRADES_PER_SECOND_PER_IP",
  upgradesPerSecond: "WS_UPGRADES_PER_SECOND",
  maxBufferedBytes: "WS_MAX_BUFFERED_BYTES",
  maxPresenceMembers: "WS_MAX_PRESENCE_MEMBERS",
  pingIntervalMs: "WS_PING_INTERVAL_MS",
  pongTimeoutMs: "WS_PONG_TIMEOUT_MS",
  idleTimeoutMs: "WS_IDLE_TIMEOUT_MS",
};

/** The environment variable of each connection-guard limit, with its accepted range. */
export const NET_LIMIT_ENV: Readonly<Record<keyof NetLimits, [string, number, number]>> = {
  maxSockets: ["NET_MAX_SOCKETS", 0, 10_000_000],
  maxSocketsPerIp: ["NET_MAX_SOCKETS_PER_IP", 1, 10_000_000],
  maxPendingPerIp: ["NET_MAX_PENDING_PER_IP", 1, 10_000_000],
  headerTimeoutMs: ["NET_HEADER_TIMEOUT_MS", 10, 3_600_000],
  keepAliveTimeoutMs: ["NET_KEEPALIVE_TIMEOUT_MS", 10, 3_600_000],
  requestTimeoutMs: ["NET_REQUEST_TIMEOUT_MS", 10, 3_600_000],
  maxHeadBytes: ["NET_MAX_HEAD_BYTES", 1_024, 1_048_576],
  closeTimeoutMs: ["WS_CLOSE_TIMEOUT_MS", 10, 600_000],
  frameTimeoutMs: ["WS_FRAME_TIMEOUT_MS", 10, 3_600_000],
  partialFrameBudgetBytes: ["WS_PARTIAL_FRAME_BYTES", 65_536, 2 ** 31 - 1],
};

function loadNetLimits(env: EnvReader): NetLimits {
  const limits = { ...DEFAULT_NET_LIMITS };
  for (const key of Object.keys(NET_LIMIT_ENV) as (keyof NetLimits)[]) {
    const [name, min, max] = NET_LIMIT_ENV[key];
    limits[key] = integer(env, name, DEFAULT_NET_LIMITS[key], min, max);
  }
  return limits;
}

function onOff(env: EnvReader, name: string, fallback: boolean): boolean {
  const raw = (env.get(name) ?? "").trim().toLowerCase();
  if (raw === "") return fallback;
  if (raw === "on" || raw === "1" || raw === "true") return true;
  if (raw === "off" || raw === "0" || raw === "false") return false;
  throw new Error(`Cannot read ${name}: expected on or off, got "${env.get(name)}"`);
}

function loadLimits(env: EnvReader): GatewayLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(LIMIT_ENV) as (keyof GatewayLimits)[]) {
    limits[key] = integer(env, LIMIT_ENV[key], DEFAULT_LIMITS[key], 1, 2 ** 31 - 1);
  }
  return limits;
}

/** Reads just what {@linkcode loadConfig} needs from the environment. */
export interface EnvReader {
  get(name: string): string | undefined;
}

const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

function decimal(env: EnvReader, name: string, fallback: number, min: number, max: number): number {
  const raw = env.get(name);
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = /^\s*[0-9]+(\.[0-9]+)?\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`Cannot read ${name}: expected a number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function integer(env: EnvReader, name: string, fallback: number, min: number, max: number): number {
  const raw = env.get(name);
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`Cannot read ${name}: expected an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** The authentication settings; secrets are never echoed in errors. */
function loadAuthConfig(
  env: EnvReader,
): Pick<
  AppConfig,
  | "authSecret"
  | "allowedOrigins"
  | "tokenTtlSec"
  | "sessionTtlSec"
  | "demoPassword"
  | "pbkdf2Iterations"
  | "signupsPerHourPerIp"
> {
  const authSecret = env.get("AUTH_SECRET") || undefined;
  if (authSecret && new TextEncoder().encode(authSecret).length < MIN_SECRET_BYTES) {
    throw new Error(`Cannot read AUTH_SECRET: expected at least ${MIN_SECRET_BYTES} bytes`);
  }
  const allowedOrigins = (env.get("ALLOWED_ORIGINS") ?? "").split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
    .map((entry) => {
      const origin = normalizeOrigin(entry);
      if (!origin) {
        throw new Error(
          `Cannot read ALLOWED_ORIGINS: expected origins like https://app.example.com, got "${entry}"`,
        );
      }
      return origin;
    });
  const demoPassword = env.get("DEMO_PASSWORD") || undefined;
  if (demoPassword !== undefined && demoPassword.length < MIN_ANY_PASSWORD_LENGTH) {
    throw new Error(
      `Cannot read DEMO_PASSWORD: expected at least ${MIN_ANY_PASSWORD_LENGTH} characters`,
    );
  }
  return {
    authSecret,
    allowedOrigins,
    tokenTtlSec: integer(env, "TOKEN_TTL_SEC", 900, 30, 86_400),
    sessionTtlSec: integer(env, "SESSION_TTL_SEC", 604_800, 60, 31_536_000),
    demoPassword,
    pbkdf2Iterations: integer(
      env,
      "PBKDF2_ITERATIONS",
      DEFAULT_PBKDF2_ITERATIONS,
      MIN_PBKDF2_ITERATIONS,
      10_000_000,
    ),
    signupsPerHourPerIp: integer(env, "SIGNUPS_PER_HOUR_PER_IP", 5, 1, 1_000_000),
  };
}

function kvUrl(env: EnvReader): string | undefined {
  const raw = env.get("KV_URL");
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`Cannot read KV_URL: expected an http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new Error(`Cannot read KV_URL: expected an http(s) URL, got "${raw}"`);
  }
  return raw;
}

/** `REDIS_URL`, checked (lib/bus/redis.ts); unset or empty: none. */
function redisUrl(env: EnvReader): string | undefined {
  const raw = env.get("REDIS_URL")?.trim();
  if (!raw) return undefined;
  parseRedisUrl(raw, "REDIS_URL");
  return raw;
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
    // On Deno Deploy (DENO_DEPLOYMENT_ID is set) the default is the project's managed KV.
    kvPath: env.get("KV_PATH") ?? (env.get("DENO_DEPLOYMENT_ID") ? "" : "./data/realtime.kv"),
    kvUrl: kvUrl(env),
    redisUrl: redisUrl(env),
    kvRemote: kvUrl(env) !== undefined ||
      (env.get("KV_PATH") === undefined && env.get("DENO_DEPLOYMENT_ID") !== undefined),
    marketTickMs: integer(env, "MARKET_TICK_MS", 250, 10, 60_000),
    priceRoundMs: integer(env, "PRICE_ROUND_MS", 100, 10, 60_000),
    marketSeed: integer(env, "MARKET_SEED", Math.floor(Math.random() * 2 ** 31), 0, 2 ** 32 - 1),
    logLevel: logLevel as LogLevel,
    ...loadAuthConfig(env),
    limits: loadLimits(env),
    netGuard: onOff(env, "NET_GUARD", true),
    net: loadNetLimits(env),
    prices: parsePriceSources(env),
    priceDeviationPct: decimal(env, "PRICE_DEVIATION_PCT", 0.01, 0, 100),
    priceHeartbeatMs: integer(env, "PRICE_HEARTBEAT_MS", 1_000, 100, 3_600_000),
    priceMaxAgeMs: integer(env, "PRICE_MAX_AGE_MS", 10_000, 500, 3_600_000),
    chain: parseChainConfig(env),
    notifyBackend: notifyBackend(env),
    notifyRecoveryMs: integer(env, "NOTIFY_RECOVERY_MS", 5_000, 100, 600_000),
    clusterTtlMs: integer(env, "CLUSTER_TTL_MS", 10_000, 1_000, 600_000),
  };
}

function notifyBackend(env: EnvReader): AppConfig["notifyBackend"] {
  const raw = (env.get("NOTIFY_BACKEND") ?? "").trim() || "auto";
  if (raw === "auto" || raw === "kv-queue" || raw === "outbox") return raw;
  throw new Error(`Cannot read NOTIFY_BACKEND: expected auto, kv-queue or outbox, got "${raw}"`);
}
