/**
 * The chain's configuration from the environment (README's table lists the same
 * variables). Every error names its variable; a URL is never echoed (it may carry an API
 * key).
 *
 * @module
 */
import { parseAddress } from "./address.ts";

/** Everything the chain needs, defaults applied. */
export interface ChainConfig {
  /** `CHAIN`: `on` (default) or `off` (no chain at all: no listener, wallet API answers 503). */
  enabled: boolean;
  /**
   * `CHAIN_RPC_URL`: the node's HTTP(S) JSON-RPC endpoint. Unset: `deno task start` runs an
   * embedded anvil and sets it; a server started otherwise (deno serve, tests) has no chain.
   */
  rpcUrl: string | null;
  /** `CHAIN_WS_URL`: optional ws(s) endpoint; new heads and pending transactions wake the listener. */
  wsUrl: string | null;
  /** `CHAIN_CONFIRMATIONS` (1–1 000): `confirmed` depth. Default per chain (mainnet 12, dev 3). */
  confirmations: number | null;
  /** `CHAIN_FINALITY` (1–10 000, ≥ confirmations): blocks kept unfinalized. Default mainnet 64, dev 12. */
  finality: number | null;
  /** `CHAIN_POLL_MS` (50–60 000): time between two rounds. Default 1 000. */
  pollMs: number;
  /** `CHAIN_RPC_TIMEOUT_MS` (200–120 000): deadline of one request. Default 8 000. */
  rpcTimeoutMs: number;
  /** `CHAIN_START_BLOCK`: `latest` (default) or a block number, for a chain seen the first time. */
  startBlock: number | "latest";
  /** `CHAIN_MEMPOOL`: `auto` (default: txpool_content, else the pending block), `txpool`, `pending`, `off`. */
  mempool: "auto" | "txpool" | "pending" | "off";
  /** `CHAIN_NATIVE_SYMBOL`: the native coin's symbol, priced as `{symbol}-USD`. Default `ETH`. */
  nativeSymbol: string;
  /** `CHAIN_DEMO_ADDRESS`: watched for the demo account once (set by `deno task start`). */
  demoAddress: string | null;
  /** `CHAIN_EMBEDDED=1`: the node is the anvil `deno task start` runs (set by it). */
  embedded: boolean;
}

/** Reads just what {@linkcode parseChainConfig} needs. */
export interface ChainEnv {
  get(name: string): string | undefined;
}

function integer(env: ChainEnv, name: string, min: number, max: number): number | null {
  const raw = env.get(name)?.trim();
  if (raw === undefined || raw === "") return null;
  const value = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new Error(
      `Cannot read ${name}: expected an integer from ${min} to ${max}, got "${raw.slice(0, 40)}"`,
    );
  }
  return value;
}

function url(env: ChainEnv, name: string, protocols: string[]): string | null {
  const raw = env.get(name)?.trim();
  if (!raw) return null;
  const expected = `expected a ${protocols.map((p) => p.replace(":", "")).join(" or ")} URL`;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new Error(`Cannot read ${name}: ${expected} (the value is not a URL)`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new Error(
      `Cannot read ${name}: ${expected}, got a ${parsed.protocol.replace(":", "")} URL`,
    );
  }
  return raw;
}

function oneOf<T extends string>(
  env: ChainEnv,
  name: string,
  values: readonly T[],
  fallback: T,
): T {
  const raw = env.get(name)?.trim().toLowerCase();
  if (raw === undefined || raw === "") return fallback;
  if (!values.includes(raw as T)) {
    throw new Error(
      `Cannot read ${name}: expected one of ${values.join(", ")}, got "${raw.slice(0, 40)}"`,
    );
  }
  return raw as T;
}

/** Builds the chain configuration; throws a clear error naming the variable at fault. */
export function parseChainConfig(env: ChainEnv): ChainConfig {
  const enabled = oneOf(env, "CHAIN", ["on", "off"] as const, "on") === "on";
  const confirmations = integer(env, "CHAIN_CONFIRMATIONS", 1, 1_000);
  const finality = integer(env, "CHAIN_FINALITY", 1, 10_000);
  if (confirmations !== null && finality !== null && finality < confirmations) {
    throw new Error(
      `Cannot read CHAIN_FINALITY: expected at least CHAIN_CONFIRMATIONS (${confirmations}), got ${finality}`,
    );
  }
  const startRaw = env.get("CHAIN_START_BLOCK")?.trim().toLowerCase();
  const startBlock = !startRaw || startRaw === "latest"
    ? "latest" as const
    : integer(env, "CHAIN_START_BLOCK", 0, Number.MAX_SAFE_INTEGER)!;
  const demoRaw = env.get("CHAIN_DEMO_ADDRESS")?.trim();
  let demoAddress: string | null = null;
  if (demoRaw) {
    const parsed = parseAddress(demoRaw);
    if (!parsed.ok) throw new Error(`Cannot read CHAIN_DEMO_ADDRESS: ${parsed.message}`);
    demoAddress = parsed.address;
  }
  const symbol = env.get("CHAIN_NATIVE_SYMBOL")?.trim() || "ETH";
  if (!/^[A-Z0-9]{2,10}$/.test(symbol)) {
    throw new Error(
      `Cannot read CHAIN_NATIVE_SYMBOL: expected 2-10 of A-Z 0-9, got "${symbol.slice(0, 20)}"`,
    );
  }
  return {
    enabled,
    rpcUrl: url(env, "CHAIN_RPC_URL", ["http:", "https:"]),
    wsUrl: url(env, "CHAIN_WS_URL", ["ws:", "wss:"]),
    confirmations,
    finality,
    pollMs: integer(env, "CHAIN_POLL_MS", 50, 60_000) ?? 1_000,
    rpcTimeoutMs: integer(env, "CHAIN_RPC_TIMEOUT_MS", 200, 120_000) ?? 8_000,
    startBlock,
    mempool: oneOf(env, "CHAIN_MEMPOOL", ["auto", "txpool", "pending", "off"] as const, "auto"),
    nativeSymbol: symbol,
    demoAddress,
    embedded: env.get("CHAIN_EMBEDDED") === "1",
  };
}
