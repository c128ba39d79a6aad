/**
 * Wallet ingest throughput on a back-fill, and head → message latency, on a local anvil.
 *
 *   deno task bench:wallet [--blocks 500] [--per-block 6] [--samples 40]
 *
 * 1. Back-fill: mines `--blocks` blocks, each with `--per-block` transactions (half of
 *    them touch the watched address: ETH and DEMO-token transfers, both ways; the rest
 *    are token transfers between others, whose logs the listener must not fetch), then
 *    starts the listener (lib/wallet/ingestor.ts) from block 0 on an empty KV and times
 *    the rounds until it is at the head: blocks/s, logs/s (Transfer logs naming the
 *    watched address), receipts/s, items/s. Runs on `:memory:` KV and on a KV file.
 * 2. Latency: the engine follows the head — woken by anvil's WebSocket (polling every
 *    second besides), then polling every 250 ms alone; a block carrying a transfer to the
 *    watched address is mined every ~0.3–0.5 s, and the time from `anvil_mine` returning
 *    to the item message reaching the publish hook (the bus) is recorded: p50 / p95 /
 *    max. The browser leg is measured by the page's own test.
 *
 * Prints a JSON summary (and writes it to bench/results/wallet_ingest.json).
 */
import { addWatched } from "../lib/wallet/watch.ts";
import { startAnvil } from "../lib/wallet/anvil.ts";
import { DEV_ACCOUNTS, devChain } from "../lib/wallet/dev_chain.ts";
import { ChainIngestor } from "../lib/wallet/ingestor.ts";
import { runChainEngine } from "../lib/wallet/engine.ts";
import { createChainRpc } from "../lib/wallet/rpc.ts";
import type { WalletMessage } from "../lib/wallet/types.ts";
import { benchArgs } from "./_args.ts";

const args = benchArgs();
const arg = (name: string, fallback: number) => args.int(name, fallback, 1, 1_000_000);

const BLOCKS = arg("blocks", 500);
const PER_BLOCK = arg("per-block", 6);
const SAMPLES = arg("samples", 40);
const [A0, A1, A2, A3, A4, , W] = DEV_ACCOUNTS;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

await using anvil = await startAnvil();
const chain = devChain(anvil.url);
const token = await chain.deployErc20(A0, {
  name: "Demo Token",
  symbol: "DEMO",
  decimals: 6,
  supply: 10n ** 18n,
}, true);
for (const a of [A1, A2, A3, A4, W]) {
  await chain.send({ from: A0, to: token, data: chain.erc20Transfer(a, 10n ** 15n) });
}
await chain.mine();

console.error(`mining ${BLOCKS} blocks × ${PER_BLOCK} transactions…`);
const fillStart = performance.now();
for (let b = 0; b < BLOCKS; b++) {
  // One at a time: concurrent sends from one account would reuse a nonce.
  for (let i = 0; i < PER_BLOCK; i++) {
    const others = [A1, A2, A3, A4];
    const a = others[(b + i) % 4];
    const c = others[(b + i + 1) % 4];
    switch (i % 4) {
      case 0:
        await chain.send({ from: a, to: W, value: BigInt(b * 100 + i + 1) });
        break;
      case 1:
        await chain.send({ from: a, to: token, data: chain.erc20Transfer(W, BigInt(b + 1)) });
        break;
      default:
        await chain.send({ from: a, to: token, data: chain.erc20Transfer(c, BigInt(b + 1)) });
    }
  }
  await chain.mine();
}
const head = await chain.rpc.blockNumber();
console.error(`mined to block ${head} in ${((performance.now() - fillStart) / 1000).toFixed(1)} s`);

async function backfill(path: string) {
  const kv = await Deno.openKv(path);
  try {
    await addWatched(kv, "bench", W, "");
    let calls = 0;
    const rpc = createChainRpc({ url: anvil.url, onRequest: (n) => calls += n });
    const ingestor = await ChainIngestor.open({
      kv,
      rpc,
      startBlock: 0,
      mempool: "off",
      confirmations: 3,
      finality: 12,
      maxBlocksPerRound: 1_000,
      log: quiet,
    });
    const t0 = performance.now();
    let rounds = 0;
    for (;;) {
      rounds++;
      const r = await ingestor.round();
      if (r.synced) break;
    }
    const seconds = (performance.now() - t0) / 1000;
    const s = ingestor.stats;
    return {
      kv: path === ":memory:" ? "memory" : "file",
      blocks: s.blocks,
      seconds: Number(seconds.toFixed(2)),
      blocksPerSec: Math.round(s.blocks / seconds),
      logsPerSec: Math.round(s.logs / seconds),
      receiptsPerSec: Math.round(s.receipts / seconds),
      itemsPerSec: Math.round(s.items / seconds),
      logs: s.logs,
      receipts: s.receipts,
      items: s.items,
      rpcCalls: calls,
      rounds,
    };
  } finally {
    kv.close();
  }
}

const dir = await Deno.makeTempDir();
const backfills = [await backfill(":memory:"), await backfill(`${dir}/bench.kv`)];
await Deno.remove(dir, { recursive: true });
console.error(JSON.stringify(backfills));

// Latency: mine → the item message reaching the bus hook.
async function latency(wsUrl: string | null, pollMs: number) {
  const kv = await Deno.openKv(":memory:");
  await addWatched(kv, "bench", W, "");
  const stop = new AbortController();
  const arrived = new Map<string, number>();
  const engine = runChainEngine({
    kv,
    holder: "bench",
    signal: stop.signal,
    settings: {
      rpcUrl: anvil.url,
      wsUrl,
      pollMs,
      rpcTimeoutMs: 5_000,
      confirmations: 3,
      finality: 12,
      startBlock: "latest",
      mempool: "off",
    },
    log: quiet,
    publish(messages) {
      const t = performance.now();
      for (const m of messages) {
        const d = m.data as WalletMessage;
        if (d.type === "item" && d.item.status === "included" && !arrived.has(d.item.txHash)) {
          arrived.set(d.item.txHash, t);
        }
      }
      return Promise.resolve();
    },
  });
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const latencies: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const hash = await chain.send({ from: A1, to: W, value: BigInt(i + 1) });
    const mined = performance.now();
    await chain.mine();
    const end = performance.now() + 5_000;
    while (!arrived.has(hash) && performance.now() < end) {
      await new Promise((r) => setTimeout(r, 2));
    }
    const at = arrived.get(hash);
    if (at !== undefined) latencies.push(at - mined);
    await new Promise((resolve) => setTimeout(resolve, 300 + (i % 7) * 37));
  }
  stop.abort();
  await engine;
  kv.close();
  latencies.sort((a, b) => a - b);
  return {
    wake: wsUrl ? `CHAIN_WS_URL (newHeads), poll ${pollMs} ms` : `polling every ${pollMs} ms`,
    samples: latencies.length,
    missed: SAMPLES - latencies.length,
    p50Ms: Math.round(pct(latencies, 0.5)),
    p95Ms: Math.round(pct(latencies, 0.95)),
    maxMs: Math.round(latencies[latencies.length - 1] ?? NaN),
  };
}
const latencies = [await latency(anvil.url.replace("http", "ws"), 1_000), await latency(null, 250)];
const summary = {
  date: new Date().toISOString(),
  deno: Deno.version.deno,
  anvil: "1.7.1",
  chain: { blocks: BLOCKS, perBlock: PER_BLOCK, watchedTxsPerBlock: Math.ceil(PER_BLOCK / 4) * 2 },
  backfill: backfills,
  headToMessage: latencies,
};
console.log(JSON.stringify(summary, null, 2));
await Deno.writeTextFile(
  new URL("./results/wallet_ingest.json", import.meta.url),
  JSON.stringify(summary, null, 2) + "\n",
);
