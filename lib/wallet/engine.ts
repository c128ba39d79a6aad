/**
 * The chain engine: in every isolate, a loop that competes for the `chain` lease; the
 * holder alone talks to the node. Each poll (`pollMs`, or at once when the optional
 * WebSocket says a head or a pending transaction arrived) it runs one round of the
 * {@linkcode ChainIngestor}, publishes the outbox on the bus and writes the chain's status
 * to KV (`GET /api/chain` in every isolate) and on `chain:status`.
 *
 * Failures (node down, slow, erroring, answering garbage; a commit fenced off by another
 * holder) throw the ingestor away: the next attempt, after a backoff (0.5 s doubling to
 * 30 s, with jitter), reloads it from KV — nothing in memory outlives a failure, and
 * what was committed is complete (see lib/wallet/commit.ts). The status says
 * `reconnecting` meanwhile.
 *
 * @module
 */
import { kvLeases, type Leases } from "../kv/lease.ts";
import { chainOutboxKey, chainStatusKey } from "../kv/keys.ts";
import {
  ChainIngestor,
  type IngestorOptions,
  type MempoolMode,
  type WalletLog,
} from "./ingestor.ts";
import { createChainRpc, RpcFailure } from "./rpc.ts";
import type { ChainRpc } from "./rpc.ts";
import { readOutbox } from "./store.ts";
import { CHAIN_STATUS_CHANNEL, type ChainStatus, type WalletMessage } from "./types.ts";
import type { UsdPrice } from "./view.ts";
import { startWakeSocket } from "./ws_wake.ts";

/** The lease that elects the isolate talking to the node. */
export const CHAIN_LEASE = "chain";

/** One message for the bus, with its idempotency key. */
export interface ChainPublication {
  channel: string;
  data: unknown;
  /** Unique per outbox entry and position: a repeated publish is committed once. */
  key?: string;
}

/** What the engine needs of the chain configuration. */
export interface ChainEngineSettings {
  rpcUrl: string;
  wsUrl: string | null;
  pollMs: number;
  rpcTimeoutMs: number;
  confirmations: number | null;
  finality: number | null;
  startBlock: number | "latest";
  mempool: IngestorOptions["mempool"];
  nativeSymbol?: string;
}

/** Options for {@linkcode runChainEngine}. */
export interface ChainEngineOptions {
  kv: Deno.Kv;
  /** Where the `chain` lease lives (the cluster's engine). Default: KV leases on `kv`. */
  leases?: Leases;
  /** Unique id of this isolate. */
  holder: string;
  signal: AbortSignal;
  settings: ChainEngineSettings;
  log: WalletLog;
  /** Publishes in order (the bus). */
  publish: (messages: ChainPublication[]) => Promise<void>;
  /** Current USD prices, for the balances announced. */
  price?: () => UsdPrice;
  now?: () => number;
  /** The node connection; default one over `settings.rpcUrl`. */
  rpc?: ChainRpc;
  /** Lease time to live, ms. Default max(15 s, 5 × pollMs). */
  leaseTtlMs?: number;
  /** Blocks per round at most (tests, benchmark). */
  maxBlocksPerRound?: number;
  /** Every status this isolate writes (tests). */
  onStatus?: (status: ChainStatus) => void;
  /** After every round while holding the lease (tests, benchmark). */
  onRound?: (ingestor: ChainIngestor) => void;
}

/** Removes anything URL-like from an error message (a node URL may carry an API key). */
export function redact(message: string): string {
  return message.replace(/\b(?:https?|wss?):\/\/\S+/gi, "<node>").slice(0, 300);
}

/** Balances messages get their USD values at publication (prices move on their own). */
function withUsd(data: unknown, price: UsdPrice | undefined): unknown {
  const m = data as WalletMessage;
  if (!price || m?.type !== "balances") return data;
  return {
    ...m,
    balances: m.balances.map((b) => {
      if (b.unknown || b.kind === "erc721" || !b.symbol) return b;
      const p = price(b.symbol);
      const usd = p === null ? NaN : Number(b.amount) * p;
      return Number.isFinite(usd) ? { ...b, usd: Math.round(usd * 100) / 100 } : b;
    }),
  };
}

/** Runs until `signal` aborts; never rejects (errors are logged and retried). */
export async function runChainEngine(options: ChainEngineOptions): Promise<void> {
  const { kv, holder, signal, settings, log } = options;
  const now = options.now ?? Date.now;
  const ttlMs = options.leaseTtlMs ?? Math.max(15_000, settings.pollMs * 5);
  const leases = options.leases ?? kvLeases(kv, now);
  const rpc = options.rpc ??
    createChainRpc({ url: settings.rpcUrl, timeoutMs: settings.rpcTimeoutMs });
  let holding = false;
  let ingestor: ChainIngestor | null = null;
  let failures = 0;
  let nextAttempt = 0;
  let lastError: string | null = null;
  let lastWritten = "";
  let lastWrittenAt = 0;
  let mempool: MempoolMode = "none";
  let wake: (() => void) | null = null;
  /** A wake-up that came during a round: the next sleep is skipped. */
  let woken = false;
  let wakeSocket: { close(): void } | null = null;

  async function flushOutbox(chainId: number): Promise<void> {
    for (let round = 0; round < 20; round++) {
      const entries = await readOutbox(kv, chainId, 50);
      if (entries.length === 0) return;
      const price = options.price?.();
      const batch: ChainPublication[] = [];
      for (const e of entries) {
        const seq = e.key[3] as number;
        e.value.forEach((m, i) => {
          batch.push({
            channel: m.channel,
            data: withUsd(m.data, price),
            key: `chain:${chainId}:${seq}:${i}`,
          });
        });
      }
      await options.publish(batch);
      const op = kv.atomic();
      for (const e of entries) op.delete(chainOutboxKey(chainId, e.key[3] as number));
      await op.commit();
    }
  }

  function status(): ChainStatus {
    const c = ingestor?.cursor;
    const headTs = ingestor?.headTs ?? null;
    return {
      chainId: ingestor?.chainId ?? null,
      rpc: failures === 0 && ingestor ? "connected" : "reconnecting",
      head: c && c.number >= 0 ? c.number : null,
      headHash: c?.hash ?? null,
      finalized: c && ingestor ? Math.max(-1, c.number - ingestor.finality) : null,
      lagMs: headTs === null ? null : Math.max(0, now() - headTs),
      reorgs: c?.reorgs ?? 0,
      deepReorgs: c?.deepReorgs ?? 0,
      lastReorg: c?.lastReorg ?? null,
      confirmations: ingestor?.confirmations ?? settings.confirmations ?? 0,
      finality: ingestor?.finality ?? settings.finality ?? 0,
      mempool: ingestor?.mempool ?? mempool,
      error: failures > 0 ? lastError : null,
      updatedAt: now(),
    };
  }

  async function writeStatus(): Promise<void> {
    const s = status();
    const { updatedAt: _u, lagMs: _l, ...rest } = s;
    const same = JSON.stringify(rest) === lastWritten;
    if (same && now() - lastWrittenAt < 5_000) return;
    // A reconnecting holder that never connected keeps the last good numbers in KV.
    if (!ingestor) {
      const previous = (await kv.get<ChainStatus>(chainStatusKey())).value;
      if (previous) {
        Object.assign(s, { ...previous, rpc: s.rpc, error: s.error, updatedAt: s.updatedAt });
      }
    }
    lastWritten = JSON.stringify(rest);
    lastWrittenAt = now();
    await kv.set(chainStatusKey(), s);
    options.onStatus?.(s);
    await options.publish([{ channel: CHAIN_STATUS_CHANNEL, data: s }]);
  }

  async function attempt(): Promise<void> {
    try {
      if (!ingestor) {
        ingestor = await ChainIngestor.open({
          kv,
          rpc,
          confirmations: settings.confirmations,
          finality: settings.finality,
          startBlock: settings.startBlock,
          mempool: settings.mempool,
          maxBlocksPerRound: options.maxBlocksPerRound,
          nativeSymbol: settings.nativeSymbol,
          now,
          log,
          onCommit: () => flushOutbox(ingestor!.chainId),
        });
        mempool = ingestor.mempool;
        await flushOutbox(ingestor.chainId);
        if (failures > 0) log.info("chain connection restored", { chainId: ingestor.chainId });
      }
      await ingestor.round();
      await flushOutbox(ingestor.chainId);
      failures = 0;
      lastError = null;
      options.onRound?.(ingestor);
    } catch (err) {
      ingestor = null;
      failures++;
      lastError = redact(err instanceof Error ? err.message : String(err));
      const delay = Math.min(30_000, 500 * 2 ** Math.min(failures - 1, 6));
      nextAttempt = now() + delay * (0.75 + Math.random() * 0.5);
      // First failure and then every tenth: a node down for an hour logs 20 lines, not 7 000.
      if (failures === 1 || failures % 10 === 0) {
        log.warn("chain round failed; retrying with backoff", {
          failures,
          retryInMs: Math.round(nextAttempt - now()),
          kind: err instanceof RpcFailure ? err.kind : (err as Error)?.name,
          error: lastError,
        });
      }
    }
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted || woken) {
        woken = false;
        return resolve();
      }
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      wake = done;
    });
  }

  while (!signal.aborted) {
    try {
      const held = await leases.acquire(CHAIN_LEASE, holder, ttlMs);
      if (held && !holding) {
        holding = true;
        log.info("chain lease acquired", {});
        if (settings.wsUrl) {
          wakeSocket = startWakeSocket({
            url: settings.wsUrl,
            onWake: () => wake ? wake() : woken = true,
            log,
            signal,
          });
        }
      } else if (!held && holding) {
        holding = false;
        ingestor = null;
        wakeSocket?.close();
        wakeSocket = null;
        log.info("chain lease lost", {});
      }
    } catch (err) {
      log.warn("chain lease check failed", { err });
    }
    if (holding && now() >= nextAttempt) {
      await attempt();
      await writeStatus().catch((err) => log.warn("chain status write failed", { err }));
    }
    await sleep(
      holding && failures > 0
        ? Math.min(settings.pollMs, Math.max(50, nextAttempt - now()))
        : settings.pollMs,
    );
  }
  wakeSocket?.close();
  if (holding) await leases.release(CHAIN_LEASE, holder).catch(() => {});
}
