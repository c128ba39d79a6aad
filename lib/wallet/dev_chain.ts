/**
 * Driving a dev chain (anvil): transactions from its unlocked dev accounts, mining on
 * demand, dropping and reorganizing — what the demo activity generator, the tests and the
 * benchmark do to it. Not used against a real node.
 *
 * @module
 */
import { encodeFunctionData, parseAbi } from "viem";
import {
  erc20Creation,
  type Erc20Options,
  erc721Creation,
  type Erc721Options,
} from "./contracts.ts";
import { type ChainRpc, createChainRpc } from "./rpc.ts";
import * as S from "./rpc_schemas.ts";
import type { Hex } from "./rpc_schemas.ts";
import { z } from "zod";

/** anvil's default dev accounts (mnemonic "test test … junk"), checksummed. */
export const DEV_ACCOUNTS = [
  "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
  "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
  "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
  "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
  "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
  "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
  "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
  "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f",
  "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720",
] as const;

const ABI = parseAbi([
  "function transfer(address to, uint256 amount) returns (bool)",
  "function mint(address to) returns (uint256)",
  "function transferFrom(address from, address to, uint256 id)",
]);

/** A transaction request from an unlocked account. */
export interface DevTx {
  from: string;
  to?: string;
  value?: bigint;
  data?: Hex;
  gas?: bigint;
  nonce?: number;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
}

function rpcTx(tx: DevTx): Record<string, string> {
  const out: Record<string, string> = { from: tx.from };
  if (tx.to) out.to = tx.to;
  if (tx.value !== undefined) out.value = `0x${tx.value.toString(16)}`;
  if (tx.data) out.data = tx.data;
  if (tx.gas !== undefined) out.gas = `0x${tx.gas.toString(16)}`;
  if (tx.nonce !== undefined) out.nonce = `0x${tx.nonce.toString(16)}`;
  if (tx.maxFeePerGas !== undefined) out.maxFeePerGas = `0x${tx.maxFeePerGas.toString(16)}`;
  if (tx.maxPriorityFeePerGas !== undefined) {
    out.maxPriorityFeePerGas = `0x${tx.maxPriorityFeePerGas.toString(16)}`;
  }
  return out;
}

/** A dev chain to drive. */
export interface DevChain {
  readonly rpc: ChainRpc;
  /** `eth_sendTransaction` from an unlocked account; resolves with the hash. */
  send(tx: DevTx): Promise<Hex>;
  /** Mines `blocks` blocks (`anvil_mine`). */
  mine(blocks?: number): Promise<void>;
  setAutomine(on: boolean): Promise<void>;
  /** Removes a transaction from the mempool (`anvil_dropTransaction`). */
  drop(hash: Hex): Promise<void>;
  /**
   * Replaces the last `depth` blocks with as many new ones carrying `txs` (each at its
   * block offset from the first new block), as `anvil_reorg` does.
   */
  reorg(depth: number, txs?: [DevTx, number][]): Promise<void>;
  /** Removes the last `depth` blocks (`anvil_rollback`): the chain gets shorter. */
  rollback(depth: number): Promise<void>;
  /** Waits (bounded) for a receipt; resolves with it. */
  receipt(hash: Hex, timeoutMs?: number): Promise<S.RpcReceipt>;
  /** Deploys creation code; mines when asked; resolves with the contract's address. */
  deploy(from: string, code: Hex, mine?: boolean): Promise<Hex>;
  deployErc20(from: string, options: Erc20Options, mine?: boolean): Promise<Hex>;
  deployErc721(from: string, options: Erc721Options, mine?: boolean): Promise<Hex>;
  /** Calldata of the demo contracts' functions. */
  erc20Transfer(to: string, amount: bigint): Hex;
  erc721Mint(to: string): Hex;
  erc721Transfer(from: string, to: string, id: bigint): Hex;
}

/** A driver for the dev chain at `url`. */
export function devChain(url: string, rpc: ChainRpc = createChainRpc({ url })): DevChain {
  const ok = z.unknown();
  const self: DevChain = {
    rpc,
    send: (tx) => rpc.request("eth_sendTransaction", [rpcTx(tx)], S.hash),
    async mine(blocks = 1) {
      await rpc.request("anvil_mine", [`0x${blocks.toString(16)}`], ok);
    },
    async setAutomine(on) {
      await rpc.request("evm_setAutomine", [on], ok);
    },
    async drop(hash) {
      await rpc.request("anvil_dropTransaction", [hash], ok);
    },
    async reorg(depth, txs = []) {
      await rpc.request("anvil_reorg", [depth, txs.map(([tx, offset]) => [rpcTx(tx), offset])], ok);
    },
    async rollback(depth) {
      await rpc.request("anvil_rollback", [depth], ok);
    },
    async receipt(hash, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const [r] = await rpc.receipts([hash]);
        if (r) return r;
        if (Date.now() > end) {
          throw new Error(`Timed out after ${timeoutMs} ms waiting for the receipt of ${hash}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async deploy(from, code, mine = false) {
      const hash = await self.send({ from, data: code });
      if (mine) await self.mine();
      const r = await self.receipt(hash);
      if (!r.contractAddress || r.status !== 1) {
        throw new Error("Cannot deploy: the creation failed");
      }
      return r.contractAddress;
    },
    deployErc20: (from, options, mine) => self.deploy(from, erc20Creation(options), mine),
    deployErc721: (from, options, mine) => self.deploy(from, erc721Creation(options), mine),
    erc20Transfer: (to, amount) =>
      encodeFunctionData({ abi: ABI, functionName: "transfer", args: [to as Hex, amount] }),
    erc721Mint: (to) => encodeFunctionData({ abi: ABI, functionName: "mint", args: [to as Hex] }),
    erc721Transfer: (from, to, id) =>
      encodeFunctionData({
        abi: ABI,
        functionName: "transferFrom",
        args: [from as Hex, to as Hex, id],
      }),
  };
  return self;
}
