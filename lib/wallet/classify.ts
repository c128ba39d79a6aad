/**
 * Pure decisions of the wallet: what a `Transfer` log is, which way a transfer goes for
 * an address, why a transaction was replaced, what a revert says, and how amounts print.
 *
 * @module
 */
import { decodeAbiParameters, formatUnits, keccak256 } from "viem";
import { TRANSFER_TOPIC } from "./contracts.ts";
import type { Hex, RpcLog, RpcTransaction } from "./rpc_schemas.ts";
import type { Direction, ReplacementReason } from "./types.ts";

export { TRANSFER_TOPIC };

/** A decoded `Transfer` log (addresses lower-case). */
export type DecodedTransfer =
  | { kind: "erc20"; from: Hex; to: Hex; raw: bigint }
  | { kind: "erc721"; from: Hex; to: Hex; tokenId: bigint };

/** The address in a topic (12 zero bytes then 20), or null when the topic is not one. */
export function topicAddress(topic: Hex): Hex | null {
  if (!/^0x0{24}[0-9a-f]{40}$/.test(topic)) return null;
  return `0x${topic.slice(26)}` as Hex;
}

/** An address as a 32-byte topic. */
export function addressTopic(address: string): Hex {
  return `0x${"0".repeat(24)}${address.slice(2).toLowerCase()}` as Hex;
}

/**
 * Decodes a `Transfer(address,address,uint256)` log: 4 topics are ERC-721 (the id in the
 * 4th topic, no data); 3 topics with a 32-byte amount are ERC-20 — or ERC-721 with the id
 * in the data when the contract declares ERC-721 through ERC-165 (`nftContract`). Anything
 * else (another event, malformed topics or data) is null.
 */
export function decodeTransfer(log: RpcLog, nftContract: boolean): DecodedTransfer | null {
  const [topic0, t1, t2, t3] = log.topics;
  if (topic0 !== TRANSFER_TOPIC || t1 === undefined || t2 === undefined) return null;
  const from = topicAddress(t1);
  const to = topicAddress(t2);
  if (!from || !to) return null;
  if (log.topics.length === 4) {
    if (log.data !== "0x") return null;
    return { kind: "erc721", from, to, tokenId: BigInt(t3!) };
  }
  if (log.data.length !== 66) return null;
  const value = BigInt(log.data);
  return nftContract
    ? { kind: "erc721", from, to, tokenId: value }
    : { kind: "erc20", from, to, raw: value };
}

/** Which way a transfer goes, seen from `address` (all lower-case). */
export function directionOf(address: string, from: string, to: string | null): Direction {
  if (from === address && to === address) return "self";
  return from === address ? "out" : "in";
}

/** What a replaced transaction is compared on. */
export interface ReplacedFields {
  to: Hex | null;
  /** wei, decimal */
  value: string;
  inputHash: Hex;
}

/** keccak256 of a transaction's input. */
export function inputHashOf(input: Hex): Hex {
  return keccak256(input);
}

/**
 * viem's rule (`waitForTransactionReceipt`): the same recipient, value and input is a
 * speed-up (`repriced`); a replacement sending nothing to its own sender cancels
 * (`cancelled`); anything else is `replaced`.
 */
export function replacementReason(
  replaced: ReplacedFields,
  replacement: RpcTransaction,
): ReplacementReason {
  if (
    replacement.to === replaced.to && replacement.value.toString() === replaced.value &&
    inputHashOf(replacement.input) === replaced.inputHash
  ) return "repriced";
  if (replacement.to === replacement.from && replacement.value === 0n) return "cancelled";
  return "replaced";
}

/** `raw` in units of `decimals` ("1.5"), or the raw integer when decimals are unknown. */
export function formatAmount(raw: bigint, decimals: number | null): string {
  return decimals === null ? raw.toString() : formatUnits(raw, decimals);
}

/**
 * Text from a chain made safe to show: control characters, bidirectional overrides (which
 * can make a symbol read as another) and zero-width characters removed, at most `max` long.
 */
export function cleanText(text: string, max: number): string {
  const clean = text
    // deno-lint-ignore no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufffd]/g, "")
    .trim();
  return [...clean].slice(0, max).join("");
}

const ERROR_SELECTOR = "0x08c379a0";
const PANIC_SELECTOR = "0x4e487b71";

/** What revert data says: `Error(string)`'s text, a panic code, or a custom error's selector. */
export function decodeRevertReason(data: unknown): string | null {
  if (typeof data !== "string" || !/^0x([0-9a-fA-F]{2})*$/.test(data) || data.length < 10) {
    return null;
  }
  const hex = data.toLowerCase() as Hex;
  const selector = hex.slice(0, 10);
  try {
    if (selector === ERROR_SELECTOR) {
      const [text] = decodeAbiParameters([{ type: "string" }], `0x${hex.slice(10)}`);
      const clean = cleanText(text, 200);
      return clean === "" ? null : clean;
    }
    if (selector === PANIC_SELECTOR) {
      const [code] = decodeAbiParameters([{ type: "uint256" }], `0x${hex.slice(10)}`);
      return `panic 0x${code.toString(16)}`;
    }
  } catch {
    return null;
  }
  return `custom error ${selector}`;
}
