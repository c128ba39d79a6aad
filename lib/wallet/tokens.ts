/**
 * Token metadata, read once per token (one batch of `eth_call`s) and cached in KV and in
 * memory: ERC-165 `supportsInterface(0x80ac58cd)` (is it an NFT?), `decimals()`,
 * `symbol()`, `name()`. A call that reverts or answers garbage leaves that field null; an
 * ERC-20 without usable decimals is `unknown` (its amounts stay in raw units). A node that
 * does not answer at all is not a token's fault: that failure propagates (retried later)
 * and nothing is cached.
 *
 * @module
 */
import { decodeAbiParameters, hexToString } from "viem";
import { chainTokenKey } from "../kv/keys.ts";
import { checksum } from "./address.ts";
import { cleanText } from "./classify.ts";
import { type ChainRpc, RpcFailure } from "./rpc.ts";
import type { Hex } from "./rpc_schemas.ts";
import type { TokenMeta } from "./store.ts";

const SUPPORTS_ERC721 =
  "0x01ffc9a780ac58cd00000000000000000000000000000000000000000000000000000000";
const DECIMALS = "0x313ce567";
const SYMBOL = "0x95d89b41";
const NAME = "0x06fdde03";

/** The largest decimals accepted: 10^77 is the largest power of ten below 2^256. */
export const MAX_DECIMALS = 77;

/** A `uint8`-like decimals answer, or null. */
export function parseDecimals(result: Hex | RpcFailure): number | null {
  if (result instanceof RpcFailure || result.length !== 66) return null;
  const value = BigInt(result);
  return value <= BigInt(MAX_DECIMALS) ? Number(value) : null;
}

/** An ABI `string` (or a legacy `bytes32`) answer as text, or null. */
export function parseText(result: Hex | RpcFailure, max: number): string | null {
  if (result instanceof RpcFailure || result === "0x") return null;
  try {
    if (result.length === 66) {
      // bytes32 (old tokens such as MKR): text padded with zero bytes.
      // cleanText removes the NUL padding with the other control characters.
      const text = hexToString(result);
      const clean = cleanText(text, max);
      return clean === "" ? null : clean;
    }
    if (result.length > 2 + 2 * 32 * 10) return null;
    const [text] = decodeAbiParameters([{ type: "string" }], result);
    const clean = cleanText(text, max);
    return clean === "" ? null : clean;
  } catch {
    return null;
  }
}

/** An ERC-165 `true`. */
export function parseBool(result: Hex | RpcFailure): boolean {
  return !(result instanceof RpcFailure) && result.length === 66 && BigInt(result) === 1n;
}

/** Reads a token's metadata from the node (see the module's doc). */
export async function fetchTokenMeta(
  rpc: ChainRpc,
  address: Hex,
  nftByLog: boolean,
): Promise<TokenMeta> {
  const results = await rpc.calls(
    [SUPPORTS_ERC721, DECIMALS, SYMBOL, NAME].map((data) => ({ to: address, data: data as Hex })),
    "latest",
  );
  for (const r of results) {
    // The node answered with an error object: that is the contract's answer (a revert).
    // Anything else (timeout, garbage envelope) is the node's problem: retry later.
    if (r instanceof RpcFailure && r.kind !== "rpc") throw r;
  }
  const [erc165, decimals, symbol, name] = results;
  const kind = nftByLog || parseBool(erc165) ? "erc721" : "erc20";
  const dec = kind === "erc721" ? 0 : parseDecimals(decimals);
  return {
    address: checksum(address),
    kind,
    name: parseText(name, 64),
    symbol: parseText(symbol, 32),
    decimals: dec,
    unknown: kind === "erc20" && dec === null,
  };
}

/** Token metadata with a KV and an in-memory cache in front of the node. */
export class TokenCache {
  readonly #memory = new Map<string, TokenMeta>();
  constructor(
    private readonly kv: Deno.Kv,
    private readonly chainId: number,
    private readonly rpc: ChainRpc,
    private readonly maxMemory = 10_000,
  ) {}

  /** The metadata of `address` (lower-case); reads the node only the first time. */
  async get(address: Hex, nftByLog: boolean): Promise<TokenMeta> {
    const cached = this.#memory.get(address);
    if (cached) return cached;
    const key = chainTokenKey(this.chainId, address);
    let meta = (await this.kv.get<TokenMeta>(key)).value;
    if (!meta) {
      meta = await fetchTokenMeta(this.rpc, address, nftByLog);
      await this.kv.set(key, meta);
    } else if (nftByLog && meta.kind !== "erc721") {
      // A 4-topic Transfer proves an NFT, whatever ERC-165 said.
      meta = { ...meta, kind: "erc721", decimals: 0, unknown: false };
      await this.kv.set(key, meta);
    }
    if (this.#memory.size >= this.maxMemory) this.#memory.clear();
    this.#memory.set(address, meta);
    return meta;
  }

  /** Already known (no I/O), or undefined. */
  peek(address: Hex): TokenMeta | undefined {
    return this.#memory.get(address);
  }
}
