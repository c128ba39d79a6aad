/**
 * The block listener and transaction monitor of one chain, for the isolate holding the
 * `chain` lease (lib/wallet/engine.ts runs it). State lives in KV (lib/wallet/store.ts);
 * this object is a cache of it for one tenure and is thrown away (and reloaded) after any
 * failure, so a failed round never leaves memory and KV apart.
 *
 * One {@linkcode ChainIngestor.round}:
 *
 * 1. reloads the watched addresses when they changed (new ones get their balances);
 * 2. reads the node's head; a head at or below our tip with another hash, or a next block
 *    whose parent is not our tip, is a reorganization: walk back (bounded by the kept
 *    window) to the common ancestor, mark what the replaced blocks carried `reorged`,
 *    re-read the balances, and continue from the ancestor — the new branch is ingested
 *    like any block. Deeper than the window: logged, counted, the window re-ingested;
 * 3. ingests blocks from the cursor to the head (at most `maxBlocksPerRound`, in ranges):
 *    blocks with transactions, `Transfer` logs naming a watched address, receipts of the
 *    transactions that matter; each answer is checked against the block hashes (a chain
 *    that moved during the fetch cuts the range). Items are upserted by
 *    (address, txHash, position) with the including block's hash: ingesting a block twice
 *    changes nothing and announces nothing;
 * 4. once caught up, reads the mempool: new transactions of watched addresses are
 *    `pending`; a pending one that left it is `dropped` (unless a same-nonce twin waits, or
 *    the node still knows it); `replaced` is decided when a block carries another
 *    transaction with the same sender and nonce;
 * 5. forgets what is final (blocks and transactions below the finality depth).
 *
 * @module
 */
import {
  chainBlockKey,
  chainCursorKey,
  chainPrefix,
  chainTxKey,
  walletAddressPrefix,
  walletBalanceKey,
  walletChainPrefix,
  walletItemIdKey,
  walletItemKey,
  walletItemPrefix,
} from "../kv/keys.ts";
import { checksum } from "./address.ts";
import {
  addressTopic,
  decodeRevertReason,
  decodeTransfer,
  directionOf,
  formatAmount,
  inputHashOf,
  replacementReason,
  TRANSFER_TOPIC,
} from "./classify.ts";
import { ChangeSet, commitChanges, del, FencedError, put, say, type Unit } from "./commit.ts";
import { type ChainRpc, RpcFailure } from "./rpc.ts";
import type { Hex, RpcBlock, RpcLog, RpcReceipt, RpcTransaction } from "./rpc_schemas.ts";
import {
  type ChainCursor,
  deletePrefix,
  readBalances,
  readCursor,
  readTracked,
  readWindow,
  type StoredBalances,
  type StoredBlock,
  type StoredItem,
  tokenRef,
  type TrackedTx,
} from "./store.ts";
import { TokenCache } from "./tokens.ts";
import type { ReorgInfo, TxStatus, WalletMessage } from "./types.ts";
import { walletChannel } from "./types.ts";
import { viewBalances, viewItem } from "./view.ts";
import { watchedAddresses, watchRevision } from "./watch.ts";

export { FencedError };

/** How the mempool is read. */
export type MempoolMode = "txpool" | "pending-block" | "none";

/** The logger the wallet needs. */
export interface WalletLog {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Items one transaction contributes at most (a KV value holds 64 KiB). */
export const MAX_ITEMS_PER_TX = 64;
/** Tokens followed per address at most. */
export const MAX_TOKENS_PER_ADDRESS = 50;
/** Items kept per address feed; older final ones are deleted. */
export const MAX_ITEMS_PER_ADDRESS = 1_000;
/** Failed transactions per range whose revert reason is asked for. */
const MAX_REVERT_REPLAYS = 16;
/** Addresses per `eth_getLogs` topic list. */
const TOPIC_CHUNK = 50;
/** Consecutive mempool failures before the mempool is given up on. */
const MEMPOOL_STRIKES = 3;

/** Confirmation and finality depths of well-known chains; others get the mainnet ones. */
export function chainDefaults(chainId: number): { confirmations: number; finality: number } {
  if (chainId === 31337 || chainId === 1337) return { confirmations: 3, finality: 12 };
  return { confirmations: 12, finality: 64 };
}

/** Options for {@linkcode ChainIngestor.open}. */
export interface IngestorOptions {
  kv: Deno.Kv;
  rpc: ChainRpc;
  /** Override of the chain's default ({@linkcode chainDefaults}). */
  confirmations?: number | null;
  /** Override of the chain's default; at least `confirmations`. */
  finality?: number | null;
  /** Where a chain seen for the first time starts: a block number, or the head. */
  startBlock: number | "latest";
  mempool: "auto" | "txpool" | "pending" | "off";
  /** Blocks per round at most. Default 200. */
  maxBlocksPerRound?: number;
  /** Blocks per fetched range. Default 25. */
  rangeBlocks?: number;
  /** Symbol of the native coin. Default `ETH`. */
  nativeSymbol?: string;
  now?: () => number;
  log: WalletLog;
  /** Called after every commit that may have put messages in the outbox. */
  onCommit?: () => Promise<void>;
}

/** What one round did. */
export interface RoundResult {
  /** Our tip equals the node's head. */
  synced: boolean;
  head: number;
  nodeHead: number;
  blocks: number;
}

/** Counters for the benchmark and `/api/chain`. */
export interface IngestStats {
  blocks: number;
  logs: number;
  receipts: number;
  items: number;
  reorgs: number;
}

type Patch = Partial<Omit<TrackedTx, "hash" | "items">>;

function nonceKey(from: string, nonce: number): string {
  return `${from}:${nonce}`;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function balanceOfData(address: string): Hex {
  return `0x70a08231${"0".repeat(24)}${address.slice(2).toLowerCase()}` as Hex;
}

/** See the module's doc. */
export class ChainIngestor {
  readonly stats: IngestStats = { blocks: 0, logs: 0, receipts: 0, items: 0, reorgs: 0 };
  /** The node's head at the last round. */
  nodeHead: { number: number; hash: Hex; timestamp: number } | null = null;
  /** The head block's time (ms), when known. */
  headTs: number | null = null;

  #watched = new Map<Hex, string>();
  #watchRev = -1n;
  #nextItemSeq: number;
  #mempoolStrikes = 0;
  #lastPrune = -Infinity;
  #tokens: TokenCache;
  #now: () => number;

  private constructor(
    private readonly options: IngestorOptions,
    readonly chainId: number,
    readonly confirmations: number,
    readonly finality: number,
    public mempool: MempoolMode,
    public cursor: ChainCursor,
    private versionstamp: string,
    private readonly window: Map<number, StoredBlock>,
    private readonly tracked: Map<Hex, TrackedTx>,
  ) {
    this.#nextItemSeq = cursor.itemSeq;
    this.#tokens = new TokenCache(options.kv, chainId, options.rpc);
    this.#now = options.now ?? Date.now;
  }

  /** Connects: the chain's id and genesis, the stored cursor (created at first). */
  static async open(options: IngestorOptions): Promise<ChainIngestor> {
    const { kv, rpc, log } = options;
    const chainId = await rpc.chainId();
    const defaults = chainDefaults(chainId);
    const confirmations = options.confirmations ?? defaults.confirmations;
    const finality = Math.max(options.finality ?? defaults.finality, confirmations);
    const genesis = await rpc.header(0);
    if (!genesis) throw new RpcFailure("invalid", "Cannot read the chain: the node has no block 0");
    let entry = await readCursor(kv, chainId);
    if (entry.value && entry.value.genesis !== genesis.hash) {
      log.warn(
        "another chain answers with this chain id (new genesis): its stored state is discarded",
        {
          chainId,
        },
      );
      await deletePrefix(kv, chainPrefix(chainId));
      await deletePrefix(kv, walletChainPrefix(chainId));
      entry = await readCursor(kv, chainId);
    }
    if (!entry.value) {
      const head = await rpc.header("latest");
      if (!head) throw new RpcFailure("invalid", "Cannot read the chain: no latest block");
      const start = options.startBlock === "latest"
        ? head.number
        : Math.min(options.startBlock, head.number);
      const before = start > 0 ? await rpc.header(start - 1) : null;
      const cursor: ChainCursor = {
        number: start - 1,
        hash: before?.hash ?? null,
        genesis: genesis.hash,
        itemSeq: 1,
        outboxSeq: 1,
        ingested: 0,
        reorgs: 0,
        deepReorgs: 0,
        lastReorg: null,
      };
      const key = chainCursorKey(chainId);
      const made = await kv.atomic().check({ key, versionstamp: null }).set(key, cursor).commit();
      if (!made.ok) throw new FencedError();
      entry = await readCursor(kv, chainId);
      log.info("chain first seen: ingesting from block", { chainId, start });
    }
    const mempool = await detectMempool(rpc, options.mempool, log);
    const ingestor = new ChainIngestor(
      options,
      chainId,
      confirmations,
      finality,
      mempool,
      entry.value!,
      entry.versionstamp!,
      await readWindow(kv, chainId),
      await readTracked(kv, chainId),
    );
    return ingestor;
  }

  /** One round (see the module's doc). Throws on any failure; the caller reloads. */
  async round(): Promise<RoundResult> {
    const { rpc } = this.options;
    await this.#refreshWatched();
    const head = await rpc.header("latest");
    if (!head) throw new RpcFailure("invalid", "Cannot read the chain: no latest block");
    this.nodeHead = head;
    const max = this.options.maxBlocksPerRound ?? 200;
    const rangeBlocks = this.options.rangeBlocks ?? 25;
    if (this.cursor.number >= 0 && head.number <= this.cursor.number) {
      if (this.#hashAt(head.number) === head.hash) {
        // The chain got shorter (a rollback): what is above the head is gone.
        if (head.number < this.cursor.number) {
          await this.#rollback({ number: head.number, hash: head.hash }, false);
        }
      } else {
        await this.#reorg(head.number);
      }
    }
    let blocks = 0;
    let reorgs = 0;
    while (this.cursor.number < head.number && blocks < max) {
      const from = this.cursor.number + 1;
      const to = Math.min(head.number, from + rangeBlocks - 1, from + (max - blocks) - 1);
      const result = await this.#ingestRange(from, to);
      if (result === "reorg") {
        if (++reorgs > 3) break; // the chain keeps moving under us: next round
        await this.#reorg(this.cursor.number);
        continue;
      }
      blocks += result.count;
      if (result.truncated) break;
    }
    const synced = this.cursor.number >= head.number;
    if (synced) await this.#mempoolRound();
    await this.#collectGarbage();
    return { synced, head: this.cursor.number, nodeHead: head.number, blocks };
  }

  // ---- watched addresses --------------------------------------------------------------

  #isWatched(lower: Hex | null): boolean {
    return lower !== null && this.#watched.has(lower);
  }

  async #refreshWatched(): Promise<void> {
    const { kv } = this.options;
    const rev = await watchRevision(kv);
    if (rev === this.#watchRev) return;
    const set = await watchedAddresses(kv);
    const next = new Map<Hex, string>();
    for (const address of set) next.set(address.toLowerCase() as Hex, address);
    const added = [...next.values()].filter((a) => !this.#watched.has(a.toLowerCase() as Hex));
    const removed = [...this.#watched.values()].filter((a) => !set.has(a));
    const first = this.#watchRev === -1n;
    this.#watched = next;
    this.#watchRev = rev;
    const changes = new ChangeSet();
    for (const address of removed) {
      // Nobody watches it any more: its feed and balances go (watching starts afresh).
      await deletePrefix(kv, walletAddressPrefix(this.chainId, address));
      for (const t of this.tracked.values()) {
        if (!t.items.some((i) => i.address === address)) continue;
        t.items = t.items.filter((i) => i.address !== address);
        const unit = changes.unit();
        if (t.items.length === 0) {
          del(unit, chainTxKey(this.chainId, t.hash));
          this.tracked.delete(t.hash);
        } else put(unit, chainTxKey(this.chainId, t.hash), t);
      }
    }
    // New addresses (all of them after a reload: only unread or changed ones are written).
    const fresh = first ? [...next.values()] : added;
    if (fresh.length > 0 && this.cursor.number >= 0) {
      await this.#balances(fresh, this.cursor.number, changes, false);
    }
    if (!changes.empty) await this.#commit({ ...this.cursor }, changes);
  }

  // ---- reorganizations ------------------------------------------------------------------

  #hashAt(number: number): Hex | null {
    if (number === this.cursor.number) return this.cursor.hash;
    return this.window.get(number)?.hash ?? null;
  }

  /** Walks back from `from` to the common ancestor and rolls back above it. */
  async #reorg(from: number): Promise<void> {
    const { rpc } = this.options;
    const numbers = [...this.window.keys()];
    const low = numbers.length > 0 ? Math.min(...numbers) : this.cursor.number;
    let n = Math.min(from, this.cursor.number);
    while (n >= low && n >= 0) {
      const batch = range(Math.max(low, n - 15), n).reverse();
      const headers = await rpc.headers(batch);
      for (let i = 0; i < batch.length; i++) {
        const known = this.#hashAt(batch[i]);
        const header = headers[i];
        if (known !== null && header && header.hash === known) {
          return await this.#rollback({ number: batch[i], hash: known }, false);
        }
      }
      n = batch[batch.length - 1] - 1;
    }
    // Deeper than the kept window: trust the node below it, re-ingest the window.
    // A node whose chain is now shorter than our window: its head is the ancestor.
    const below = Math.min(low - 1, this.nodeHead?.number ?? low - 1);
    const header = below >= 0 ? await rpc.header(below) : null;
    if (below >= 0 && !header) {
      throw new RpcFailure("invalid", "Cannot walk back: a block is missing");
    }
    await this.#rollback({ number: below, hash: header?.hash ?? null }, true);
  }

  async #rollback(ancestor: { number: number; hash: Hex | null }, deep: boolean): Promise<void> {
    const oldTip = this.cursor.number;
    if (oldTip <= ancestor.number) return;
    const affected = [...this.window.values()]
      .filter((b) => b.number > ancestor.number)
      .sort((a, b) => b.number - a.number);
    const info: ReorgInfo = {
      from: ancestor.number + 1,
      to: oldTip,
      depth: oldTip - ancestor.number,
      ancestor: { number: ancestor.number, hash: ancestor.hash },
      deep,
      at: this.#now(),
    };
    const addresses = new Set<string>();
    for (const b of affected) for (const a of b.addresses) addresses.add(a);
    const changes = new ChangeSet();
    const announce = changes.unit();
    const { at: _at, ...told } = info;
    for (const a of addresses) {
      say(announce, walletChannel(a), { type: "reorg", ...told } satisfies WalletMessage);
    }
    const head = ancestor.number;
    for (const b of affected) {
      for (const hash of b.txs) {
        const t = this.tracked.get(hash);
        if (!t || t.decidedIn !== b.hash) continue;
        this.#update(
          t,
          {
            status: "reorged",
            block: null,
            decidedIn: undefined,
            replacedBy: undefined,
            reason: undefined,
            revertReason: undefined,
            changedAt: ancestor.number,
          },
          null,
          changes,
          head,
        );
      }
      del(changes.unit(), chainBlockKey(this.chainId, b.number));
    }
    if (ancestor.number >= 0 && addresses.size > 0) {
      await this.#balances([...addresses], ancestor.number, changes, true);
    }
    await this.#commit({
      ...this.cursor,
      number: ancestor.number,
      hash: ancestor.hash,
      ingested: this.cursor.ingested - affected.length,
      reorgs: this.cursor.reorgs + 1,
      deepReorgs: this.cursor.deepReorgs + (deep ? 1 : 0),
      lastReorg: info,
    }, changes);
    for (const b of affected) this.window.delete(b.number);
    this.stats.reorgs++;
    const log = deep ? this.options.log.error : this.options.log.warn;
    log("chain reorganization", { chainId: this.chainId, ...info });
  }

  // ---- ingestion --------------------------------------------------------------------------

  /** Transfer logs of the range that name a watched address as sender or recipient. */
  async #transferLogs(from: number, to: number): Promise<RpcLog[]> {
    const topics = [...this.#watched.keys()].map(addressTopic);
    if (topics.length === 0) return [];
    const seen = new Map<string, RpcLog>();
    for (let i = 0; i < topics.length; i += TOPIC_CHUNK) {
      const chunk = topics.slice(i, i + TOPIC_CHUNK);
      for (const filter of [[TRANSFER_TOPIC, chunk], [TRANSFER_TOPIC, null, chunk]]) {
        for (const log of await this.#logsSplitting(from, to, filter as (Hex | Hex[] | null)[])) {
          seen.set(`${log.blockHash}:${log.logIndex}`, log);
        }
      }
    }
    return [...seen.values()];
  }

  /** `eth_getLogs`, halving the range when the node refuses it (too many results). */
  async #logsSplitting(
    from: number,
    to: number,
    topics: (Hex | Hex[] | null)[],
  ): Promise<RpcLog[]> {
    try {
      return await this.options.rpc.logs({ fromBlock: from, toBlock: to }, topics);
    } catch (err) {
      if (!(err instanceof RpcFailure) || err.kind !== "rpc" || from === to) throw err;
      const mid = Math.floor((from + to) / 2);
      return [
        ...await this.#logsSplitting(from, mid, topics),
        ...await this.#logsSplitting(mid + 1, to, topics),
      ];
    }
  }

  async #ingestRange(
    from: number,
    to: number,
  ): Promise<"reorg" | { count: number; truncated: boolean }> {
    const { rpc } = this.options;
    const numbers = range(from, to);
    const fetched = await rpc.blocks(numbers);
    let list: RpcBlock[] = [];
    let prev = this.cursor.hash;
    for (let i = 0; i < fetched.length; i++) {
      const b = fetched[i];
      if (!b) break;
      if (b.number !== numbers[i]) {
        throw new RpcFailure(
          "invalid",
          `Cannot ingest: asked for block ${numbers[i]}, got ${b.number}`,
        );
      }
      if (prev !== null && b.parentHash !== prev) {
        if (i === 0) return "reorg";
        break; // the chain moved during the fetch: the rest next time
      }
      list.push(b);
      prev = b.hash;
    }
    if (list.length === 0) return { count: 0, truncated: true };
    let logs = await this.#transferLogs(list[0].number, list[list.length - 1].number);
    const hashOf = new Map(list.map((b) => [b.number, b.hash]));
    let cut = Infinity;
    for (const l of logs) {
      if (hashOf.get(l.blockNumber) !== l.blockHash) cut = Math.min(cut, l.blockNumber);
    }
    const logTxs = new Set(logs.map((l) => l.transactionHash));
    const relevant = new Map<number, RpcTransaction[]>();
    const hashes: Hex[] = [];
    for (const b of list) {
      if (b.number >= cut) break;
      const rel = b.transactions.filter((tx) =>
        this.#isWatched(tx.from) || this.#isWatched(tx.to) || this.tracked.has(tx.hash) ||
        logTxs.has(tx.hash)
      );
      relevant.set(b.number, rel);
      for (const tx of rel) hashes.push(tx.hash);
    }
    const receipts = hashes.length > 0 ? await rpc.receipts(hashes) : [];
    const receiptOf = new Map<Hex, RpcReceipt>();
    const blockOfTx = new Map<Hex, number>();
    for (const [n, txs] of relevant) for (const tx of txs) blockOfTx.set(tx.hash, n);
    receipts.forEach((r, i) => {
      const n = blockOfTx.get(hashes[i])!;
      if (!r || r.transactionHash !== hashes[i] || r.blockHash !== hashOf.get(n)) {
        cut = Math.min(cut, n);
      } else receiptOf.set(r.transactionHash, r);
    });
    if (cut !== Infinity) {
      list = list.filter((b) => b.number < cut);
      logs = logs.filter((l) => l.blockNumber < cut);
      if (list.length === 0) return { count: 0, truncated: true };
    }
    this.stats.logs += logs.length;
    this.stats.receipts += receiptOf.size;
    // Token metadata for every transfer touching a watched address (read once per token).
    for (const r of receiptOf.values()) {
      for (const l of r.logs) {
        if (l.topics[0] !== TRANSFER_TOPIC || l.topics.length < 3) continue;
        const d = decodeTransfer(l, false);
        if (!d || (!this.#isWatched(d.from) && !this.#isWatched(d.to))) continue;
        await this.#tokens.get(l.address, l.topics.length === 4);
      }
    }
    // Revert reasons: replay failed transactions on the parent state (best effort).
    const reasons = new Map<Hex, string>();
    let replays = 0;
    for (const b of list) {
      for (const tx of relevant.get(b.number) ?? []) {
        const r = receiptOf.get(tx.hash);
        if (!r || r.status === 1 || tx.to === null || replays++ >= MAX_REVERT_REPLAYS) continue;
        try {
          await rpc.call(
            {
              from: tx.from,
              to: tx.to,
              data: tx.input,
              value: tx.value,
              ...(tx.gas ? { gas: tx.gas } : {}),
            },
            Math.max(0, b.number - 1),
          );
        } catch (err) {
          if (!(err instanceof RpcFailure) || err.kind !== "rpc") continue;
          const reason = decodeRevertReason(err.data) ?? revertFromMessage(err.message);
          if (reason) reasons.set(tx.hash, reason);
        }
      }
    }
    const changes = new ChangeSet();
    const oldHead = this.cursor.number;
    const newHead = list[list.length - 1].number;
    const touched = new Set<string>();
    const announced = new Set<Hex>();
    const nonces = this.#nonceIndex();
    const stored: StoredBlock[] = [];
    for (const b of list) {
      stored.push(
        await this.#applyBlock(b, relevant.get(b.number) ?? [], receiptOf, reasons, changes, {
          head: newHead,
          touched,
          announced,
          nonces,
        }),
      );
    }
    this.#bumpConfirmations(oldHead, newHead, changes, announced);
    // Every 64 blocks every watched balance is re-read (transfers no log shows: internal
    // calls, fees paid by others, rewards).
    const everyone = Math.floor(Math.max(oldHead, 0) / 64) !== Math.floor(newHead / 64);
    const addresses = everyone ? [...this.#watched.values()] : [...touched];
    if (addresses.length > 0) await this.#balances(addresses, newHead, changes, false);
    const last = list[list.length - 1];
    await this.#commit({
      ...this.cursor,
      number: last.number,
      hash: last.hash,
      ingested: this.cursor.ingested + list.length,
    }, changes);
    for (const b of stored) this.window.set(b.number, b);
    this.headTs = last.timestamp * 1000;
    this.stats.blocks += list.length;
    return { count: list.length, truncated: list.length < numbers.length };
  }

  /** Tracked transactions not in a block, by sender and nonce (replacement candidates). */
  #nonceIndex(): Map<string, TrackedTx[]> {
    const index = new Map<string, TrackedTx[]>();
    for (const t of this.tracked.values()) {
      if (t.status !== "pending" && t.status !== "dropped" && t.status !== "reorged") continue;
      const key = nonceKey(t.from, t.nonce);
      const list = index.get(key);
      if (list) list.push(t);
      else index.set(key, [t]);
    }
    return index;
  }

  async #applyBlock(
    b: RpcBlock,
    relevant: RpcTransaction[],
    receiptOf: Map<Hex, RpcReceipt>,
    reasons: Map<Hex, string>,
    changes: ChangeSet,
    ctx: {
      head: number;
      touched: Set<string>;
      announced: Set<Hex>;
      nonces: Map<string, TrackedTx[]>;
    },
  ): Promise<StoredBlock> {
    const ts = b.timestamp * 1000;
    const block = { number: b.number, hash: b.hash, ts };
    const txs = new Set<Hex>();
    const addresses = new Set<string>();
    for (const tx of b.transactions) {
      const key = nonceKey(tx.from, tx.nonce);
      const waiting = ctx.nonces.get(key);
      if (!waiting) continue;
      ctx.nonces.delete(key);
      for (const t of waiting) {
        if (t.hash === tx.hash) continue;
        this.#update(
          t,
          {
            status: "replaced",
            replacedBy: tx.hash,
            reason: replacementReason(t, tx),
            block: null,
            decidedIn: b.hash,
            changedAt: b.number,
          },
          null,
          changes,
          ctx.head,
        );
        txs.add(t.hash);
        ctx.announced.add(t.hash);
        for (const i of t.items) addresses.add(i.address);
      }
    }
    for (const tx of relevant) {
      const receipt = receiptOf.get(tx.hash);
      if (!receipt) continue;
      const t = this.tracked.get(tx.hash) ?? this.#newTracked(tx, ts);
      const status: TxStatus = receipt.status === 1 ? "included" : "failed";
      const items = this.#itemsFor(tx, receipt, { ...block, status });
      await this.#assignSeqs(items, t);
      this.#update(
        t,
        {
          status: status as TrackedTx["status"],
          block,
          decidedIn: b.hash,
          changedAt: b.number,
          replacedBy: undefined,
          reason: undefined,
          revertReason: status === "failed" ? reasons.get(tx.hash) : undefined,
        },
        items,
        changes,
        ctx.head,
      );
      txs.add(tx.hash);
      ctx.announced.add(tx.hash);
      for (const i of t.items) {
        addresses.add(i.address);
        ctx.touched.add(i.address);
      }
    }
    const stored: StoredBlock = {
      number: b.number,
      hash: b.hash,
      parentHash: b.parentHash,
      ts,
      txs: [...txs],
      addresses: [...addresses],
    };
    put(changes.unit(), chainBlockKey(this.chainId, b.number), stored);
    return stored;
  }

  #newTracked(tx: RpcTransaction, firstSeen: number): TrackedTx {
    const t: TrackedTx = {
      hash: tx.hash,
      from: tx.from,
      to: tx.to,
      nonce: tx.nonce,
      value: tx.value.toString(),
      inputHash: inputHashOf(tx.input),
      status: "pending",
      block: null,
      firstSeen,
      changedAt: Math.max(this.cursor.number, 0),
      items: [],
    };
    this.tracked.set(tx.hash, t);
    return t;
  }

  /** The items a transaction makes in the watched feeds (seq 0 until assigned). */
  #itemsFor(
    tx: RpcTransaction,
    receipt: RpcReceipt | null,
    at: { number: number; hash: Hex; ts: number; status: TxStatus } | null,
  ): StoredItem[] {
    const items: StoredItem[] = [];
    const base = {
      txHash: tx.hash,
      blockNumber: at?.number ?? null,
      blockHash: at?.hash ?? null,
      status: at?.status ?? "pending",
      ts: at?.ts ?? this.#now(),
      seq: 0,
    };
    for (const lower of new Set([tx.from, tx.to])) {
      if (!this.#isWatched(lower)) continue;
      items.push({
        ...base,
        id: `${tx.hash}:tx`,
        address: this.#watched.get(lower!)!,
        kind: "native",
        direction: directionOf(lower!, tx.from, tx.to),
        from: checksum(tx.from),
        to: tx.to === null ? null : checksum(tx.to),
        amount: formatAmount(tx.value, 18),
        raw: tx.value.toString(),
      });
    }
    receipt?.logs.forEach((l, n) => {
      if (l.topics[0] !== TRANSFER_TOPIC) return;
      const meta = this.#tokens.peek(l.address);
      const d = decodeTransfer(l, meta?.kind === "erc721");
      if (!d || !meta) return;
      for (const lower of new Set([d.from, d.to])) {
        if (!this.#isWatched(lower)) continue;
        items.push({
          ...base,
          id: `${tx.hash}:${n}`,
          address: this.#watched.get(lower)!,
          kind: d.kind,
          direction: directionOf(lower, d.from, d.to),
          from: checksum(d.from),
          to: checksum(d.to),
          token: tokenRef(meta),
          ...(d.kind === "erc20"
            ? { amount: formatAmount(d.raw, meta.decimals), raw: d.raw.toString() }
            : { tokenId: d.tokenId.toString() }),
        });
      }
    });
    return items.slice(0, MAX_ITEMS_PER_TX);
  }

  /** Gives each item its feed position: the one it already has (memory or KV), or a new one. */
  async #assignSeqs(items: StoredItem[], t: TrackedTx): Promise<void> {
    const missing: StoredItem[] = [];
    for (const item of items) {
      const known = t.items.find((i) => i.address === item.address && i.id === item.id);
      if (known) item.seq = known.seq;
      else missing.push(item);
    }
    for (let i = 0; i < missing.length; i += 10) {
      const chunk = missing.slice(i, i + 10);
      const found = await this.options.kv.getMany<number[]>(
        chunk.map((item) => walletItemIdKey(this.chainId, item.address, item.id)),
      );
      chunk.forEach((item, j) => {
        item.seq = typeof found[j].value === "number"
          ? found[j].value as number
          : this.#nextItemSeq++;
      });
    }
  }

  /**
   * Applies `patch` to `t` (and replaces its items when `items` is given), writes the
   * record and every item that changed, and announces each changed item.
   */
  #update(
    t: TrackedTx,
    patch: Patch,
    items: StoredItem[] | null,
    changes: ChangeSet,
    head: number,
  ): void {
    const before = new Map(t.items.map((i) => [`${i.address}|${i.id}`, i]));
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) delete (t as unknown as Record<string, unknown>)[k];
      else (t as unknown as Record<string, unknown>)[k] = v;
    }
    if (items) {
      const fresh = new Set(items.map((i) => `${i.address}|${i.id}`));
      t.items = [...items, ...t.items.filter((i) => !fresh.has(`${i.address}|${i.id}`))]
        .slice(0, MAX_ITEMS_PER_TX);
    }
    const unit = changes.unit();
    t.items = t.items.map((item) => this.#project(t, item));
    for (const item of t.items) {
      const old = before.get(`${item.address}|${item.id}`);
      if (old && sameJson(old, item)) continue;
      put(unit, walletItemKey(this.chainId, item.address, item.seq), item);
      if (!old) put(unit, walletItemIdKey(this.chainId, item.address, item.id), item.seq);
      say(
        unit,
        walletChannel(item.address),
        {
          type: "item",
          item: viewItem(item, head, this.confirmations),
          head,
        } satisfies WalletMessage,
      );
      this.stats.items++;
    }
    put(unit, chainTxKey(this.chainId, t.hash), t);
  }

  /** An item with its transaction's state. */
  #project(t: TrackedTx, item: StoredItem): StoredItem {
    const next: StoredItem = {
      ...item,
      status: t.status,
      blockNumber: t.block?.number ?? null,
      blockHash: t.block?.hash ?? null,
      ts: t.block?.ts ?? item.ts,
    };
    delete next.replacedBy;
    delete next.reason;
    delete next.revertReason;
    if (t.replacedBy) next.replacedBy = t.replacedBy;
    if (t.reason) next.reason = t.reason;
    if (t.revertReason) next.revertReason = t.revertReason;
    return next;
  }

  /** Announces the new confirmation count of items still short of the required depth. */
  #bumpConfirmations(
    oldHead: number,
    newHead: number,
    changes: ChangeSet,
    announced: Set<Hex>,
  ): void {
    if (newHead <= oldHead) return;
    for (const t of this.tracked.values()) {
      if (announced.has(t.hash) || !t.block) continue;
      if (t.status !== "included" && t.status !== "failed") continue;
      const before = oldHead >= t.block.number ? oldHead - t.block.number + 1 : 0;
      if (before >= this.confirmations) continue;
      let unit: Unit | null = null;
      for (const item of t.items) {
        unit ??= changes.unit();
        say(
          unit,
          walletChannel(item.address),
          {
            type: "item",
            item: viewItem(item, newHead, this.confirmations),
            head: newHead,
          } satisfies WalletMessage,
        );
      }
    }
  }

  /** Re-reads balances of `addresses` at block `at`; writes and announces those that changed. */
  async #balances(
    addresses: string[],
    at: number,
    changes: ChangeSet,
    always: boolean,
  ): Promise<void> {
    const { kv, rpc } = this.options;
    for (const address of addresses) {
      const lower = address.toLowerCase() as Hex;
      const stored: StoredBalances = await readBalances(kv, this.chainId, address) ??
        { block: -1, native: "0", tokens: {} };
      const tokens = new Set(Object.keys(stored.tokens));
      for (const t of this.tracked.values()) {
        for (const item of t.items) {
          if (item.address === address && item.token && tokens.size < MAX_TOKENS_PER_ADDRESS) {
            tokens.add(item.token.address);
          }
        }
      }
      const list = [...tokens];
      let block = at;
      let native: bigint;
      try {
        native = await rpc.balance(lower, at);
      } catch (err) {
        // A node without that block's state (pruned): read the latest instead.
        if (!(err instanceof RpcFailure) || err.kind !== "rpc") throw err;
        native = await rpc.balance(lower, "latest");
        block = this.nodeHead?.number ?? at;
      }
      const results = list.length > 0
        ? await rpc.calls(
          list.map((token) => ({ to: token.toLowerCase() as Hex, data: balanceOfData(address) })),
          block,
        )
        : [];
      const next: StoredBalances = { block, native: native.toString(), tokens: {} };
      list.forEach((token, i) => {
        const r = results[i];
        if (r instanceof RpcFailure && r.kind !== "rpc") throw r;
        next.tokens[token] = r instanceof RpcFailure || r.length !== 66
          ? stored.tokens[token] ?? null
          : BigInt(r).toString();
      });
      for (const token of list) await this.#tokens.get(token.toLowerCase() as Hex, false);
      const changed = stored.block === -1 ||
        !sameJson({ ...stored, block: 0 }, { ...next, block: 0 });
      if (!changed && !always) continue;
      const unit = changes.unit();
      put(unit, walletBalanceKey(this.chainId, address), next);
      say(
        unit,
        walletChannel(address),
        {
          type: "balances",
          balances: viewBalances(
            next,
            this.options.nativeSymbol ?? "ETH",
            (a) => this.#tokens.peek(a.toLowerCase() as Hex),
          ),
          block,
        } satisfies WalletMessage,
      );
    }
  }

  // ---- mempool ------------------------------------------------------------------------------

  async #mempoolRound(): Promise<void> {
    if (this.mempool === "none" || this.#watched.size === 0 && this.tracked.size === 0) return;
    const { rpc, log } = this.options;
    let pool: RpcTransaction[];
    try {
      pool = this.mempool === "txpool" ? await rpc.txpool() : await rpc.pendingTransactions();
      this.#mempoolStrikes = 0;
    } catch (err) {
      if (++this.#mempoolStrikes >= MEMPOOL_STRIKES) {
        log.warn("the mempool cannot be read: pending transactions are no longer followed", {
          mode: this.mempool,
          err,
        });
        this.mempool = "none";
      }
      return;
    }
    const inPool = new Map<Hex, RpcTransaction>();
    const nonces = new Set<string>();
    for (const tx of pool) {
      if (tx.blockHash !== null) continue;
      inPool.set(tx.hash, tx);
      nonces.add(nonceKey(tx.from, tx.nonce));
    }
    const changes = new ChangeSet();
    const head = this.cursor.number;
    for (const tx of inPool.values()) {
      const t = this.tracked.get(tx.hash);
      if (t) {
        if (t.status === "dropped" || t.status === "reorged") {
          this.#update(t, { status: "pending", block: null, changedAt: head }, null, changes, head);
        }
        continue;
      }
      if (!this.#isWatched(tx.from) && !this.#isWatched(tx.to)) continue;
      const fresh = this.#newTracked(tx, this.#now());
      const items = this.#itemsFor(tx, null, null);
      await this.#assignSeqs(items, fresh);
      this.#update(fresh, {}, items, changes, head);
    }
    for (const t of [...this.tracked.values()]) {
      if (t.status !== "pending" || inPool.has(t.hash)) continue;
      // A same-nonce twin waits in the pool: replaced or not is decided by the next block.
      if (nonces.has(nonceKey(t.from, t.nonce))) continue;
      const known = await rpc.transaction(t.hash);
      if (known) continue; // included (the next round ingests it) or still known to the node
      this.#update(t, { status: "dropped", changedAt: head }, null, changes, head);
    }
    if (!changes.empty) await this.#commit({ ...this.cursor }, changes);
  }

  // ---- garbage collection ---------------------------------------------------------------------

  async #collectGarbage(): Promise<void> {
    const limit = this.cursor.number - this.finality;
    if (limit < 0) return;
    const changes = new ChangeSet();
    const blocks: number[] = [];
    for (const n of this.window.keys()) {
      if (n > limit) continue;
      del(changes.unit(), chainBlockKey(this.chainId, n));
      blocks.push(n);
    }
    const txs: Hex[] = [];
    for (const t of this.tracked.values()) {
      const final = t.block
        ? t.block.number <= limit && (t.status === "included" || t.status === "failed")
        : t.status !== "pending" && this.cursor.number - t.changedAt > this.finality;
      if (!final) continue;
      del(changes.unit(), chainTxKey(this.chainId, t.hash));
      txs.push(t.hash);
    }
    if (!changes.empty) {
      await this.#commit({ ...this.cursor }, changes);
      for (const n of blocks) this.window.delete(n);
      for (const h of txs) this.tracked.delete(h);
    }
    if (this.cursor.number - this.#lastPrune >= 256) {
      this.#lastPrune = this.cursor.number;
      await this.#pruneFeeds();
    }
  }

  /** Keeps each feed to {@linkcode MAX_ITEMS_PER_ADDRESS} items (older final ones go). */
  async #pruneFeeds(): Promise<void> {
    const { kv } = this.options;
    const live = new Set<string>();
    for (const t of this.tracked.values()) {
      for (const i of t.items) live.add(`${i.address}|${i.id}`);
    }
    for (const address of this.#watched.values()) {
      const op = kv.atomic();
      let n = 0;
      for await (
        const e of kv.list<StoredItem>({ prefix: walletItemPrefix(this.chainId, address) }, {
          reverse: true,
        })
      ) {
        if (++n <= MAX_ITEMS_PER_ADDRESS || live.has(`${address}|${e.value.id}`)) continue;
        op.delete(e.key).delete(walletItemIdKey(this.chainId, address, e.value.id));
        if (n > MAX_ITEMS_PER_ADDRESS + 200) break;
      }
      if (n > MAX_ITEMS_PER_ADDRESS) await op.commit();
    }
  }

  async #commit(next: ChainCursor, changes: ChangeSet): Promise<void> {
    const result = await commitChanges(
      this.options.kv,
      this.chainId,
      this.versionstamp,
      this.cursor,
      { ...next, itemSeq: Math.max(next.itemSeq, this.#nextItemSeq) },
      changes,
    );
    this.cursor = result.cursor;
    this.versionstamp = result.versionstamp;
    if (changes.messages().length > 0) await this.options.onCommit?.();
  }
}

/** A revert reason some nodes put only in the error message (`execution reverted: …`). */
function revertFromMessage(message: string): string | null {
  const m = /execution reverted: ([^(]{1,200})/.exec(message);
  return m ? m[1].trim() : null;
}

/** Which way the mempool can be read on this node. */
async function detectMempool(
  rpc: ChainRpc,
  wanted: IngestorOptions["mempool"],
  log: WalletLog,
): Promise<MempoolMode> {
  if (wanted === "off") return "none";
  if (wanted === "auto" || wanted === "txpool") {
    try {
      await rpc.txpool();
      return "txpool";
    } catch (err) {
      if (!(err instanceof RpcFailure) || err.kind !== "rpc") throw err;
      if (wanted === "txpool") log.warn("txpool_content is not available", { err: err.message });
    }
  }
  try {
    await rpc.pendingTransactions();
    return "pending-block";
  } catch (err) {
    if (!(err instanceof RpcFailure) || err.kind !== "rpc") throw err;
    log.info("the node shows no mempool: transactions appear once included", {});
    return "none";
  }
}
