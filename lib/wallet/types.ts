/**
 * The wallet's public contract: what `GET /api/wallet/{address}`, `GET /api/chain` and
 * `GET/POST/DELETE /api/wallet/watch` answer, and every message of the channels
 * `wallet:{address}` and `chain:status` (docs/WALLET.md describes them for clients).
 * Shared by the server and the page; no runtime dependencies.
 *
 * Conventions: addresses are EIP-55 checksummed; hashes lower-case `0x…`; block numbers,
 * confirmations and times (ms since the epoch) are numbers; amounts are decimal strings
 * (never floats) — `amount` in the asset's units (ETH, tokens), `raw` in base units.
 *
 * @module
 */

/** Where a transaction is in its life. */
export type TxStatus =
  /** Seen in the mempool, not in a block. */
  | "pending"
  /** In a canonical block, with fewer than the required confirmations. */
  | "included"
  /** In a canonical block with at least the required confirmations. */
  | "confirmed"
  /** In a canonical block, reverted (`revertReason` when the node gives it). */
  | "failed"
  /** Left the mempool without being included. */
  | "dropped"
  /** Another transaction with the same sender and nonce was included (`replacedBy`). */
  | "replaced"
  /** Its block left the canonical chain and it is not (yet) pending or included again. */
  | "reorged";

/** Why a transaction was replaced, as viem's `waitForTransactionReceipt` tells it. */
export type ReplacementReason =
  /** Same recipient, value and input: a speed-up. */
  | "repriced"
  /** The replacement sends 0 to its own sender: a cancellation. */
  | "cancelled"
  /** Anything else. */
  | "replaced";

/** What moved. */
export type ActivityKind = "native" | "erc20" | "erc721";

/** Seen from the watched address. */
export type Direction = "in" | "out" | "self";

/** A token as items and balances name it. */
export interface TokenRef {
  /** The contract (checksummed). */
  address: string;
  /** `symbol()`, or null when it reverted or returned garbage. */
  symbol: string | null;
  /** `decimals()` (0–77), or null: amounts are then raw units and `unknown` is true. */
  decimals: number | null;
  /** True when the contract's metadata could not be read (amounts in raw units). */
  unknown?: true;
}

/** One line of an address's activity feed. */
export interface ActivityItem {
  /**
   * Stable across status changes and reorgs: `{txHash}:tx` for the transaction itself
   * (kind `native`), `{txHash}:{n}` for the n-th log (0-based) of the transaction.
   */
  id: string;
  kind: ActivityKind;
  direction: Direction;
  txHash: string;
  /** The including block, null while not in a canonical block. */
  blockNumber: number | null;
  blockHash: string | null;
  status: TxStatus;
  /** head − blockNumber + 1 while in a canonical block, else 0. */
  confirmations: number;
  /** With `replaced`: the transaction that took the nonce. */
  replacedBy?: string;
  /** With `replaced`. */
  reason?: ReplacementReason;
  /** With `failed`, when the node told it (text, at most 200 characters). */
  revertReason?: string;
  from: string;
  /** Null for a contract creation. */
  to: string | null;
  /** In the asset's units (`1.5` ETH); raw units when the token's decimals are unknown. */
  amount?: string;
  /** In base units (wei, token units). */
  raw?: string;
  /** ERC-721: the token id (decimal). */
  tokenId?: string;
  /** ERC-20 / ERC-721: the token. */
  token?: TokenRef;
  /** The block's time once included, else when the transaction was first seen (ms). */
  ts: number;
}

/** One balance of an address. */
export interface BalanceEntry {
  /** `native`, or the token's contract (checksummed). */
  asset: string;
  kind: ActivityKind;
  symbol: string | null;
  /** In the asset's units; raw units when `decimals` is null. */
  amount: string;
  /** In base units (ERC-721: the number of tokens held). */
  raw: string;
  decimals: number | null;
  /** The value in USD from the aggregated prices (`{symbol}-USD`), when a pair maps. */
  usd?: number;
  /** True for a token whose metadata could not be read. */
  unknown?: true;
}

/** `GET /api/wallet/{address}`. */
export interface WalletView {
  address: string;
  chainId: number | null;
  /** The newest ingested block. */
  head: number | null;
  /** Confirmations after which `included` becomes `confirmed`. */
  confirmationsRequired: number;
  balances: BalanceEntry[];
  /** The block the balances were read at. */
  balancesBlock: number | null;
  /** Newest first. */
  activity: ActivityItem[];
  /** Pass as `?cursor=` for the next (older) page; null on the last page. */
  next: string | null;
}

/** A reorganization as the listener handled it. */
export interface ReorgInfo {
  /** The first block number that was replaced (common ancestor + 1). */
  from: number;
  /** The old tip's number. */
  to: number;
  /** Blocks replaced (`to − from + 1`). */
  depth: number;
  /**
   * The common ancestor (for a deep reorg: the newest block below the kept window, taken
   * as the node gives it now); `hash` null only when the whole chain was replaced.
   */
  ancestor: { number: number; hash: string | null };
  /** Deeper than the kept window: the window was re-ingested. */
  deep: boolean;
  /** When it was handled, ms. */
  at: number;
}

/** The chain's state (`GET /api/chain`, channel `chain:status`). */
export interface ChainStatus {
  chainId: number | null;
  /** `off` when the chain is disabled (`CHAIN=off`, or no node configured). */
  rpc: "connected" | "reconnecting" | "off";
  /** The newest ingested block. */
  head: number | null;
  headHash: string | null;
  /** Blocks at or below this are final (`head − finality`). */
  finalized: number | null;
  /** Now minus the head block's timestamp, ms, when this status was written. */
  lagMs: number | null;
  /** Reorganizations handled so far (since the chain was first seen). */
  reorgs: number;
  /** Of which deeper than the kept window. */
  deepReorgs: number;
  lastReorg: ReorgInfo | null;
  /** Confirmations for `confirmed`. */
  confirmations: number;
  /** Finality depth: the unfinalized window kept. */
  finality: number;
  /** How pending transactions are seen. */
  mempool: "txpool" | "pending-block" | "none";
  /** The last error while reconnecting (no secrets: the node URL is never included). */
  error: string | null;
  /** When this status was written, ms. */
  updatedAt: number;
}

/** A message of `wallet:{address}`: an activity item was created or changed. */
export interface ItemMessage {
  type: "item";
  item: ActivityItem;
  /** The head the item's confirmations were counted at. */
  head: number | null;
}

/** A message of `wallet:{address}`: the address's balances (all of them) changed. */
export interface BalancesMessage {
  type: "balances";
  balances: BalanceEntry[];
  /** The block they were read at. */
  block: number;
}

/** A message of `wallet:{address}`: blocks carrying this address's activity were replaced. */
export interface ReorgMessage extends Omit<ReorgInfo, "at"> {
  type: "reorg";
}

/** Every message of `wallet:{address}`, in order. */
export type WalletMessage = ItemMessage | BalancesMessage | ReorgMessage;

/** A watched address of the signed-in user (`GET /api/wallet/watch`). */
export interface WatchedAddress {
  address: string;
  /** At most 40 characters; empty when none was given. */
  label: string;
  addedAt: number;
}

/** The wallet channel of an address (checksummed). */
export function walletChannel(address: string): string {
  return `wallet:${address}`;
}

/** The channel of the chain's status. */
export const CHAIN_STATUS_CHANNEL = "chain:status";
