/**
 * The chain connection: JSON-RPC over HTTP through viem's `getHttpRpcClient` (a deadline
 * per request, covering the body too, and a bound on the body's size), with every answer
 * validated (lib/wallet/rpc_schemas.ts) before use and batches for back-fills. No retry
 * here: the listener retries a whole round with backoff, so a failure is reported once.
 *
 * @module
 */
import { getHttpRpcClient } from "viem/utils";
import type { z } from "zod";
import * as S from "./rpc_schemas.ts";
import type {
  Hex,
  RpcBlock,
  RpcHeader,
  RpcLog,
  RpcReceipt,
  RpcTransaction,
} from "./rpc_schemas.ts";

export type { Hex, RpcBlock, RpcHeader, RpcLog, RpcReceipt, RpcTransaction };

/** Why a request failed. */
export type RpcFailureKind =
  /** No answer within the deadline. */
  | "timeout"
  /** Connection refused, reset, HTTP error status, body over the bound. */
  | "transport"
  /** An answer that is not what the method returns (malformed JSON, wrong shape). */
  | "invalid"
  /** A JSON-RPC error object (`code`, and `data` such as revert bytes). */
  | "rpc";

/** A failed request; `kind` says which way. */
export class RpcFailure extends Error {
  constructor(
    readonly kind: RpcFailureKind,
    message: string,
    readonly code?: number,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = "RpcFailure";
  }
}

/** A block tag or number. */
export type BlockTag = number | "latest" | "pending" | "safe" | "finalized";

/** One call of a batch. */
export interface RpcCall {
  method: string;
  params: unknown[];
}

/** Options for {@linkcode createChainRpc}. */
export interface ChainRpcOptions {
  /** The node's HTTP(S) URL. */
  url: string;
  /** Deadline of one request (headers and body), ms. Default 8 000. */
  timeoutMs?: number;
  /** Largest response body, bytes. Default 32 MiB. */
  maxResponseBytes?: number;
  /** Calls per JSON-RPC batch at most. Default 50. */
  maxBatch?: number;
  /** Counts every request (for metrics and tests). */
  onRequest?: (calls: number) => void;
  /** Override fetch (tests: a node that misbehaves). */
  fetchFn?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
}

/** The calls the wallet makes, each answer validated. */
export interface ChainRpc {
  readonly url: string;
  /** A raw call whose answer is validated by `schema`. */
  request<T extends z.ZodType>(method: string, params: unknown[], schema: T): Promise<z.output<T>>;
  /** Several calls in JSON-RPC batches; each answer validated, or its failure. */
  batch<T extends z.ZodType>(
    calls: RpcCall[],
    schema: T,
  ): Promise<(z.output<T> | RpcFailure)[]>;
  chainId(): Promise<number>;
  blockNumber(): Promise<number>;
  /** A header by number, tag or hash; null when the node has none. */
  header(at: BlockTag | Hex): Promise<RpcHeader | null>;
  /** Headers by number (batched). */
  headers(numbers: number[]): Promise<(RpcHeader | null)[]>;
  /** Blocks with their transactions, by number (batched). */
  blocks(numbers: number[]): Promise<(RpcBlock | null)[]>;
  /** Logs of one block (by hash) or a range, with `topics` as `eth_getLogs` takes them. */
  logs(
    range: { blockHash: Hex } | { fromBlock: number; toBlock: number },
    topics: (Hex | Hex[] | null)[],
  ): Promise<RpcLog[]>;
  /** Receipts by transaction hash (batched); null for one the node does not know. */
  receipts(hashes: Hex[]): Promise<(RpcReceipt | null)[]>;
  transaction(hash: Hex): Promise<RpcTransaction | null>;
  balance(address: Hex, at: BlockTag): Promise<bigint>;
  nonce(address: Hex, at: BlockTag): Promise<number>;
  /** `eth_call`; a revert is an {@linkcode RpcFailure} of kind `rpc` with the revert data. */
  call(
    request: { to: Hex; data: Hex; from?: Hex; value?: bigint; gas?: bigint },
    at: BlockTag,
  ): Promise<Hex>;
  /** Several `eth_call`s (batched); each result or its failure. */
  calls(
    requests: { to: Hex; data: Hex }[],
    at: BlockTag,
  ): Promise<(Hex | RpcFailure)[]>;
  /** The mempool by `txpool_content` (pending and queued). */
  txpool(): Promise<RpcTransaction[]>;
  /** The mempool as the node's pending block shows it. */
  pendingTransactions(): Promise<RpcTransaction[]>;
}

function tag(at: BlockTag): string {
  return typeof at === "number" ? `0x${at.toString(16)}` : at;
}

function quantity(value: bigint | number): Hex {
  return `0x${value.toString(16)}`;
}

/** Maps whatever viem's client threw to an {@linkcode RpcFailure}. */
function failureOf(err: unknown, method: string): RpcFailure {
  if (err instanceof RpcFailure) return err;
  const e = err as {
    name?: string;
    message?: string;
    status?: number;
    code?: number;
    data?: unknown;
  };
  const name = e?.name ?? "";
  const detail = (e?.message ?? String(err)).split("\n")[0].slice(0, 200);
  if (name === "TimeoutError") return new RpcFailure("timeout", `Cannot call ${method}: timed out`);
  if (name === "RpcRequestError" && typeof e.code === "number") {
    return new RpcFailure("rpc", `Cannot call ${method}: ${detail}`, e.code, e.data);
  }
  if (err instanceof SyntaxError || (err as { cause?: unknown })?.cause instanceof SyntaxError) {
    return new RpcFailure("invalid", `Cannot call ${method}: the answer is not JSON`);
  }
  if (typeof e.status === "number") {
    return new RpcFailure("transport", `Cannot call ${method}: HTTP status ${e.status}`);
  }
  const cause = (err as { cause?: { message?: unknown } })?.cause?.message;
  const why = typeof cause === "string" ? cause.split("\n")[0].slice(0, 160) : detail;
  return new RpcFailure("transport", `Cannot call ${method}: ${why}`);
}

/** Validates one JSON-RPC envelope and its result. */
function unwrap<T extends z.ZodType>(raw: unknown, method: string, schema: T): z.output<T> {
  const env = S.envelope.safeParse(raw);
  if (!env.success) throw new RpcFailure("invalid", `Cannot call ${method}: not a JSON-RPC answer`);
  if (env.data.error) {
    const { code, message, data } = env.data.error;
    throw new RpcFailure(
      "rpc",
      `Cannot call ${method}: ${message.slice(0, 300)} (${code})`,
      code,
      data,
    );
  }
  if (!("result" in (raw as object))) {
    throw new RpcFailure("invalid", `Cannot call ${method}: the answer has no result`);
  }
  const parsed = schema.safeParse(env.data.result);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.slice(0, 4).join(".")}` : "";
    throw new RpcFailure(
      "invalid",
      `Cannot call ${method}: unexpected answer${where} (${issue?.message ?? "invalid"})`,
    );
  }
  return parsed.data;
}

const nullable = <T extends z.ZodType>(schema: T) => schema.nullable();

/** Creates the connection (no request is made until a method is called). */
export function createChainRpc(options: ChainRpcOptions): ChainRpc {
  const { url } = options;
  const maxBatch = options.maxBatch ?? 50;
  const client = getHttpRpcClient(url, {
    timeout: options.timeoutMs ?? 8_000,
    maxResponseBodySize: options.maxResponseBytes ?? 32 * 1024 * 1024,
    ...(options.fetchFn ? { fetchFn: options.fetchFn } : {}),
  });
  let nextId = 1;

  async function send(body: unknown, method: string, calls: number): Promise<unknown> {
    options.onRequest?.(calls);
    try {
      // The client's body type is viem's; ours is the same JSON-RPC shape.
      return await client.request({ body: body as { method: string } });
    } catch (err) {
      throw failureOf(err, method);
    }
  }

  async function request<T extends z.ZodType>(
    method: string,
    params: unknown[],
    schema: T,
  ): Promise<z.output<T>> {
    const raw = await send({ jsonrpc: "2.0", id: nextId++, method, params }, method, 1);
    return unwrap(raw, method, schema);
  }

  async function batch<T extends z.ZodType>(
    calls: RpcCall[],
    schema: T,
  ): Promise<(z.output<T> | RpcFailure)[]> {
    const out: (z.output<T> | RpcFailure)[] = [];
    for (let start = 0; start < calls.length; start += maxBatch) {
      const chunk = calls.slice(start, start + maxBatch);
      if (chunk.length === 1) {
        out.push(
          await request(chunk[0].method, chunk[0].params, schema).catch((e) =>
            failureOf(e, chunk[0].method)
          ),
        );
        continue;
      }
      const first = nextId;
      nextId += chunk.length;
      const body = chunk.map((c, i) => ({
        jsonrpc: "2.0",
        id: first + i,
        method: c.method,
        params: c.params,
      }));
      const raw = await send(body, `${chunk[0].method} ×${chunk.length}`, chunk.length);
      if (!Array.isArray(raw)) {
        // A node refusing batches answers one error for all of them.
        const failure = (() => {
          try {
            unwrap(raw, chunk[0].method, schema);
            return new RpcFailure(
              "invalid",
              `Cannot call ${chunk[0].method}: a batch got one answer`,
            );
          } catch (err) {
            return failureOf(err, chunk[0].method);
          }
        })();
        throw failure;
      }
      const byId = new Map<number, unknown>();
      for (const item of raw.slice(0, chunk.length * 2)) {
        const id = (item as { id?: unknown })?.id;
        if (typeof id === "number") byId.set(id, item);
      }
      chunk.forEach((c, i) => {
        const item = byId.get(first + i);
        if (item === undefined) {
          out.push(new RpcFailure("invalid", `Cannot call ${c.method}: no answer in the batch`));
          return;
        }
        try {
          out.push(unwrap(item, c.method, schema));
        } catch (err) {
          out.push(failureOf(err, c.method));
        }
      });
    }
    return out;
  }

  function must<T>(items: (T | RpcFailure)[]): T[] {
    for (const item of items) if (item instanceof RpcFailure) throw item;
    return items as T[];
  }

  return {
    url,
    request,
    batch,
    chainId: () => request("eth_chainId", [], S.safeInt),
    blockNumber: () => request("eth_blockNumber", [], S.safeInt),
    header(at) {
      return typeof at === "string" && at.length === 66
        ? request("eth_getBlockByHash", [at, false], nullable(S.header))
        : request("eth_getBlockByNumber", [tag(at as BlockTag), false], nullable(S.header));
    },
    async headers(numbers) {
      return must(
        await batch(
          numbers.map((n) => ({ method: "eth_getBlockByNumber", params: [tag(n), false] })),
          nullable(S.header),
        ),
      );
    },
    async blocks(numbers) {
      return must(
        await batch(
          numbers.map((n) => ({ method: "eth_getBlockByNumber", params: [tag(n), true] })),
          nullable(S.fullBlock),
        ),
      );
    },
    logs(range, topics) {
      const filter = "blockHash" in range
        ? { blockHash: range.blockHash, topics }
        : { fromBlock: tag(range.fromBlock), toBlock: tag(range.toBlock), topics };
      return request("eth_getLogs", [filter], S.log.array().max(S.MAX_LOGS));
    },
    async receipts(hashes) {
      return must(
        await batch(
          hashes.map((h) => ({ method: "eth_getTransactionReceipt", params: [h] })),
          nullable(S.receipt),
        ),
      );
    },
    transaction: (h) => request("eth_getTransactionByHash", [h], nullable(S.transaction)),
    balance: (a, at) => request("eth_getBalance", [a, tag(at)], S.bigQuantity),
    nonce: (a, at) => request("eth_getTransactionCount", [a, tag(at)], S.safeInt),
    call(req, at) {
      const tx: Record<string, string> = { to: req.to, data: req.data };
      if (req.from) tx.from = req.from;
      if (req.value !== undefined) tx.value = quantity(req.value);
      if (req.gas !== undefined) tx.gas = quantity(req.gas);
      return request("eth_call", [tx, tag(at)], S.data);
    },
    calls(requests, at) {
      return batch(
        requests.map((r) => ({
          method: "eth_call",
          params: [{ to: r.to, data: r.data }, tag(at)],
        })),
        S.data,
      );
    },
    async txpool() {
      const content = await request("txpool_content", [], S.txpoolContent);
      const out: RpcTransaction[] = [];
      for (const section of [content.pending, content.queued]) {
        for (const byNonce of Object.values(section ?? {})) out.push(...Object.values(byNonce));
      }
      return out;
    },
    async pendingTransactions() {
      const block = await request(
        "eth_getBlockByNumber",
        ["pending", true],
        nullable(S.pendingBlock),
      );
      return block?.transactions ?? [];
    },
  };
}
