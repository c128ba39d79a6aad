/**
 * The shapes of the JSON-RPC answers the wallet reads, validated with zod before any use:
 * every hex string is checked and bounded, every array bounded, addresses lower-cased,
 * quantities turned into numbers (block numbers, indexes, nonces: safe integers) or
 * bigints (values, fees). An answer that does not fit is a garbage answer
 * ({@linkcode RpcFailure} of kind `invalid`), never a crash.
 *
 * @module
 */
import { z } from "zod";

/** A `0x`-prefixed hex string. */
export type Hex = `0x${string}`;

/** Transactions one block may carry (a 36 M gas block holds at most ~1 700 transfers). */
export const MAX_BLOCK_TRANSACTIONS = 20_000;
/** Logs one answer may carry. */
export const MAX_LOGS = 50_000;
/** Topics of one log (the EVM's LOG4). */
const MAX_TOPICS = 4;
/** Hex characters of one transaction's input or one log's data (256 KiB of bytes). */
const MAX_DATA_CHARS = 2 + 2 * 256 * 1024;

const quantityText = z.string().regex(/^0x[0-9a-fA-F]{1,64}$/, "not a hex quantity");

/** A hex quantity that fits a JS safe integer (block numbers, indexes, nonces). */
export const safeInt = quantityText.transform((text, ctx) => {
  const value = Number.parseInt(text.slice(2), 16);
  if (!Number.isSafeInteger(value)) {
    ctx.issues.push({ code: "custom", message: "quantity beyond 2^53", input: text });
    return z.NEVER;
  }
  return value;
});

/** A hex quantity of up to 256 bits. */
export const bigQuantity = quantityText.transform((text) => BigInt(text));

/** A 32-byte hash, lower-cased. */
export const hash = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "not a 32-byte hash")
  .transform((s) => s.toLowerCase() as Hex);

/** A 20-byte address, lower-cased. */
export const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "not a 20-byte address")
  .transform((s) => s.toLowerCase() as Hex);

/** Hex data (even length), bounded, lower-cased. */
export const data = z.string().max(MAX_DATA_CHARS, "data too long")
  .regex(/^0x([0-9a-fA-F]{2})*$/, "not hex data")
  .transform((s) => s.toLowerCase() as Hex);

/** A transaction as `eth_getTransactionByHash`, blocks and `txpool_content` give it. */
export const transaction = z.object({
  hash,
  from: address,
  to: address.nullable().optional().transform((v) => v ?? null),
  nonce: safeInt,
  value: bigQuantity,
  input: data,
  gas: bigQuantity.optional(),
  gasPrice: bigQuantity.optional(),
  maxFeePerGas: bigQuantity.optional(),
  maxPriorityFeePerGas: bigQuantity.optional(),
  blockNumber: safeInt.nullable().optional().transform((v) => v ?? null),
  blockHash: hash.nullable().optional().transform((v) => v ?? null),
  transactionIndex: safeInt.nullable().optional().transform((v) => v ?? null),
});
/** A validated transaction. */
export type RpcTransaction = z.output<typeof transaction>;

const headerFields = {
  number: safeInt,
  hash,
  parentHash: hash,
  timestamp: safeInt,
};

/** A block header (`eth_getBlockByNumber(…, false)`; transaction hashes are ignored). */
export const header = z.object(headerFields);
/** A validated block header. */
export type RpcHeader = z.output<typeof header>;

/** A block with its transactions (`eth_getBlockByNumber(…, true)`). */
export const fullBlock = z.object({
  ...headerFields,
  transactions: z.array(transaction).max(MAX_BLOCK_TRANSACTIONS),
});
/** A validated block with transactions. */
export type RpcBlock = z.output<typeof fullBlock>;

/**
 * The pending block some nodes build from their mempool: `number` and `hash` may be null
 * there, so only the transactions are read.
 */
export const pendingBlock = z.object({
  transactions: z.array(transaction).max(MAX_BLOCK_TRANSACTIONS),
});

/** A log (`eth_getLogs`, receipts). */
export const log = z.object({
  address,
  topics: z.array(hash).max(MAX_TOPICS),
  data,
  blockNumber: safeInt,
  blockHash: hash,
  transactionHash: hash,
  transactionIndex: safeInt,
  logIndex: safeInt,
  removed: z.boolean().optional(),
});
/** A validated log. */
export type RpcLog = z.output<typeof log>;

/** A receipt (`eth_getTransactionReceipt`). */
export const receipt = z.object({
  transactionHash: hash,
  blockHash: hash,
  blockNumber: safeInt,
  transactionIndex: safeInt,
  from: address,
  to: address.nullable().optional().transform((v) => v ?? null),
  status: z.enum(["0x0", "0x1"]).transform((s) => s === "0x1" ? 1 : 0),
  gasUsed: bigQuantity,
  contractAddress: address.nullable().optional().transform((v) => v ?? null),
  logs: z.array(log).max(MAX_LOGS),
});
/** A validated receipt. */
export type RpcReceipt = z.output<typeof receipt>;

/** `txpool_content`: sender → nonce → transaction, for `pending` and `queued`. */
const poolSection = z.record(z.string().max(42), z.record(z.string().max(20), transaction));
export const txpoolContent = z.object({
  pending: poolSection.optional(),
  queued: poolSection.optional(),
});

/** The JSON-RPC 2.0 response envelope. */
export const envelope = z.object({
  id: z.union([z.number(), z.string(), z.null()]).optional(),
  result: z.unknown().optional(),
  error: z.object({
    code: z.number(),
    message: z.string().max(4_096).catch("(message too long)"),
    data: z.unknown().optional(),
  }).optional(),
});
