/**
 * The demo chain's activity generator (`deno task start` with no `CHAIN_RPC_URL`): it
 * deploys its own ERC-20 (`DEMO`, 6 decimals) and ERC-721 (`DNFT`) on the embedded anvil
 * and mines a block every `blockMs`, each carrying a few transfers among anvil's first dev
 * accounts — ETH, tokens, NFT mints and transfers, most of them to or from the demo
 * address the demo account watches. Now and then a scene plays over a few blocks: a
 * transaction that reverts, one replaced by a faster twin (same nonce, twice the fee), one
 * dropped from the mempool (`anvil_dropTransaction`), and rarely a short reorg
 * (`anvil_reorg`), so every status of the wallet page shows up within minutes.
 *
 * @module
 */
import type { WalletLog } from "./ingestor.ts";
import { DEV_ACCOUNTS, type DevChain, devChain } from "./dev_chain.ts";
import type { Hex } from "./rpc_schemas.ts";

/** The address the demo account watches (anvil's dev account #1). */
export const DEMO_ADDRESS = DEV_ACCOUNTS[1];

/** Options for {@linkcode runDemoActivity}. */
export interface DemoOptions {
  /** The anvil's URL. */
  url: string;
  signal: AbortSignal;
  log: WalletLog;
  /** Time between two blocks, ms. Default 2 000. */
  blockMs?: number;
  /** PRNG seed. Default random. */
  seed?: number;
}

const GWEI = 10n ** 9n;
const ETHER = 10n ** 18n;
/** The accounts that trade (0 deploys and funds; 1 is the watched demo address). */
const TRADERS = DEV_ACCOUNTS.slice(0, 5);

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** One block's worth of a multi-block scene; `hold` keeps the block unmined. */
type Step = () => Promise<{ hold?: boolean } | void>;

/** Runs until `signal` aborts; never rejects (failures are logged, then retried). */
export async function runDemoActivity(options: DemoOptions): Promise<void> {
  const { signal, log } = options;
  const blockMs = options.blockMs ?? 2_000;
  const random = rng(options.seed ?? Math.floor(Math.random() * 2 ** 31));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const chain = devChain(options.url);
  let token: Hex | null = null;
  let nft: Hex | null = null;
  const owners = new Map<bigint, string>();
  let minted = 0n;
  let block = 0;
  let failures = 0;
  let scene: Step[] = [];

  async function setup(c: DevChain): Promise<void> {
    token = await c.deployErc20(DEV_ACCOUNTS[0], {
      name: "Demo Token",
      symbol: "DEMO",
      decimals: 6,
      supply: 10n ** 15n,
    }, true);
    nft = await c.deployErc721(DEV_ACCOUNTS[0], { name: "Demo NFT", symbol: "DNFT" }, true);
    for (const to of TRADERS.slice(1)) {
      await c.send({
        from: DEV_ACCOUNTS[0],
        to: token,
        data: c.erc20Transfer(to, 50_000_000_000n),
      });
    }
    await c.mine();
    log.info("demo chain ready", { token, nft, watched: DEMO_ADDRESS });
  }

  /** A counterparty of the demo address, or any two traders. */
  function pair(): [string, string] {
    if (random() < 0.7) {
      const other = pick(TRADERS.filter((a) => a !== DEMO_ADDRESS));
      return random() < 0.5 ? [other, DEMO_ADDRESS] : [DEMO_ADDRESS, other];
    }
    const from = pick(TRADERS);
    return [from, pick(TRADERS.filter((a) => a !== from))];
  }

  async function ordinary(): Promise<void> {
    const n = 1 + Math.floor(random() * 3);
    for (let i = 0; i < n; i++) {
      const [from, to] = pair();
      const kind = random();
      if (kind < 0.45) {
        const value = BigInt(Math.floor(1 + random() * 900)) * ETHER / 1000n;
        await chain.send({ from, to, value });
      } else if (kind < 0.8 && token) {
        const amount = BigInt(Math.floor(1 + random() * 500)) * 1_000_000n / 10n;
        await chain.send({ from, to: token, data: chain.erc20Transfer(to, amount) });
      } else if (nft) {
        const owned = [...owners].filter(([, owner]) => owner === from);
        if (owned.length > 0 && random() < 0.5) {
          const [id] = pick(owned);
          await chain.send({ from, to: nft, data: chain.erc721Transfer(from, to, id) });
          owners.set(id, to);
        } else {
          await chain.send({ from: DEV_ACCOUNTS[0], to: nft, data: chain.erc721Mint(to) });
          owners.set(++minted, to);
        }
      }
    }
  }

  /** The scenes, one of which starts now and then. */
  function nextScene(): Step[] {
    const roll = random();
    const other = pick(TRADERS.filter((a) => a !== DEMO_ADDRESS));
    if (roll < 0.35 && token) {
      // A transfer of more tokens than the sender has: reverts ("insufficient balance").
      return [async () => {
        await chain.send({
          from: DEMO_ADDRESS,
          to: token!,
          data: chain.erc20Transfer(other, 10n ** 14n),
          gas: 100_000n,
        });
      }];
    }
    if (roll < 0.7) {
      // Sent, seen pending for a block, then sped up with the same nonce and twice the fee.
      let nonce = 0;
      const value = ETHER / 4n;
      return [
        async () => {
          nonce = await chain.rpc.nonce(other.toLowerCase() as Hex, "pending");
          await chain.send({
            from: other,
            to: DEMO_ADDRESS,
            value,
            nonce,
            maxFeePerGas: 3n * GWEI,
            maxPriorityFeePerGas: GWEI,
          });
          return { hold: true };
        },
        async () => {
          await chain.send({
            from: other,
            to: DEMO_ADDRESS,
            value,
            nonce,
            maxFeePerGas: 6n * GWEI,
            maxPriorityFeePerGas: 2n * GWEI,
          });
        },
      ];
    }
    if (roll < 0.95) {
      // Sent, seen pending for a block, then dropped from the mempool.
      let hash: Hex | null = null;
      return [
        async () => {
          hash = await chain.send({ from: other, to: DEMO_ADDRESS, value: ETHER / 10n });
          return { hold: true };
        },
        async () => {
          if (hash) await chain.drop(hash);
        },
      ];
    }
    // Rarely: the last two blocks replaced by a branch carrying one transfer.
    return [async () => {
      await chain.reorg(2, [[{ from: other, to: DEMO_ADDRESS, value: ETHER / 20n }, 0]]);
      return { hold: true };
    }];
  }

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });

  while (!signal.aborted) {
    try {
      if (!token) await setup(chain);
      let hold = false;
      if (scene.length > 0) {
        hold = (await scene.shift()!())?.hold ?? false;
      } else {
        await ordinary();
        // Roughly one scene every 12 blocks (a replacement or a drop about each minute).
        if (block > 3 && random() < 1 / 12) scene = nextScene();
      }
      if (!hold) await chain.mine();
      block++;
      failures = 0;
    } catch (err) {
      scene = [];
      if (++failures === 1 || failures % 30 === 0) {
        log.warn("demo chain activity failed; retrying", {
          failures,
          error: err instanceof Error ? err.message.slice(0, 200) : String(err),
        });
      }
    }
    await sleep(blockMs);
  }
}
