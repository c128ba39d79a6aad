/**
 * The chain for one isolate of the app: the engine competing for the `chain` lease (when
 * a node is configured), a watch of the status the holder writes (for `/api/chain` and the
 * `chain:status` snapshot), and the demo account's watched address on the embedded chain.
 *
 * @module
 */
import { accountByUsernameKey, chainStatusKey } from "../kv/keys.ts";
import type { Leases } from "../kv/lease.ts";
import type { ChainConfig } from "./config.ts";
import { type ChainPublication, runChainEngine } from "./engine.ts";
import type { WalletLog } from "./ingestor.ts";
import type { ChainStatus } from "./types.ts";
import type { UsdPrice } from "./view.ts";
import { seedWatchOnce } from "./watch.ts";

/** A status older than this (no holder reporting) reads as `reconnecting`. */
export const STALE_STATUS_MS = 30_000;

/** The chain as routes and channels see it. */
export interface ChainService {
  /** A node is configured and `CHAIN` is not off. */
  readonly enabled: boolean;
  readonly config: ChainConfig;
  /** The newest status (staleness applied): `rpc: "off"` when disabled. */
  status(): ChainStatus;
  /** Stops the engine and the watch. */
  close(): Promise<void>;
}

/** Options for {@linkcode createChainService}. */
export interface ChainServiceOptions {
  kv: Deno.Kv;
  /** Where the `chain` lease lives (the cluster's engine). Default: KV leases on `kv`. */
  leases?: Leases;
  config: ChainConfig;
  /** Unique id of this isolate. */
  holder: string;
  log: WalletLog;
  publish: (messages: ChainPublication[]) => Promise<void>;
  price: () => UsdPrice;
  now?: () => number;
}

/** The status of a disabled chain. */
export function offStatus(config: ChainConfig, now: number): ChainStatus {
  return {
    chainId: null,
    rpc: "off",
    head: null,
    headHash: null,
    finalized: null,
    lagMs: null,
    reorgs: 0,
    deepReorgs: 0,
    lastReorg: null,
    confirmations: config.confirmations ?? 0,
    finality: config.finality ?? 0,
    mempool: "none",
    error: null,
    updatedAt: now,
  };
}

/** Applies staleness: a status no holder refreshed for a while is `reconnecting`. */
export function freshStatus(
  status: ChainStatus | null,
  config: ChainConfig,
  now: number,
): ChainStatus {
  if (!status) {
    return {
      ...offStatus(config, now),
      rpc: "reconnecting",
      error: "no listener has reported yet",
    };
  }
  const age = now - status.updatedAt;
  const lagMs = status.lagMs === null ? null : status.lagMs + Math.max(0, age);
  if (age <= STALE_STATUS_MS) return { ...status, lagMs };
  return {
    ...status,
    lagMs,
    rpc: "reconnecting",
    error: `no listener has reported for ${Math.round(age / 1000)} s`,
  };
}

/** Starts the chain for this isolate (nothing runs when disabled). */
export async function createChainService(options: ChainServiceOptions): Promise<ChainService> {
  const { kv, config, log } = options;
  const now = options.now ?? Date.now;
  const enabled = config.enabled && config.rpcUrl !== null;
  if (!enabled) {
    if (config.enabled) {
      log.info("chain off: CHAIN_RPC_URL is not set (deno task start runs an embedded anvil)", {});
    }
    return {
      enabled,
      config,
      status: () => offStatus(config, now()),
      close: () => Promise.resolve(),
    };
  }
  const stop = new AbortController();
  let latest = (await kv.get<ChainStatus>(chainStatusKey())).value;
  const watcher = (async () => {
    const reader = kv.watch<[ChainStatus]>([chainStatusKey()]).getReader();
    const cancel = () => reader.cancel().catch(() => {});
    stop.signal.addEventListener("abort", cancel, { once: true });
    try {
      while (!stop.signal.aborted) {
        const { done, value } = await reader.read();
        if (done) break;
        if (value[0].value) latest = value[0].value;
      }
    } catch (err) {
      if (!stop.signal.aborted) log.warn("chain status watch stopped", { err });
    } finally {
      stop.signal.removeEventListener("abort", cancel);
      await reader.cancel().catch(() => {});
    }
  })();
  if (config.demoAddress) {
    const demo = (await kv.get<string>(accountByUsernameKey("demo"))).value;
    if (demo && await seedWatchOnce(kv, demo, config.demoAddress, "Demo wallet", now)) {
      log.info("the demo account watches the demo chain's busy address", {
        address: config.demoAddress,
      });
    }
  }
  const engine = runChainEngine({
    kv,
    leases: options.leases,
    holder: options.holder,
    signal: stop.signal,
    settings: {
      rpcUrl: config.rpcUrl!,
      wsUrl: config.wsUrl,
      pollMs: config.pollMs,
      rpcTimeoutMs: config.rpcTimeoutMs,
      confirmations: config.confirmations,
      finality: config.finality,
      startBlock: config.startBlock,
      mempool: config.mempool,
      nativeSymbol: config.nativeSymbol,
    },
    log,
    publish: options.publish,
    price: options.price,
    now,
    onStatus: (s) => latest = s,
  });
  let closed: Promise<void> | undefined;
  return {
    enabled,
    config,
    status: () => freshStatus(latest, config, now()),
    close() {
      closed ??= (async () => {
        stop.abort();
        await engine;
        await watcher;
      })();
      return closed;
    },
  };
}
