/**
 * The demo chain's contracts, written in EVM assembly (lib/wallet/evm_asm.ts) and
 * assembled at run time — no compiler and no downloaded bytecode. Each is the smallest
 * contract that behaves like the standard towards a reader of logs and views; none is fit
 * for anything but a local dev chain (no approvals, no overflow checks, anyone mints).
 *
 * - {@linkcode erc20Creation}: `transfer`, `balanceOf`, `decimals`, `symbol`, `name`; the
 *   constructor mints the whole supply to the deployer (a `Transfer` from 0). A transfer
 *   over the balance reverts with `Error("ERC20: insufficient balance")`, which the demo
 *   uses for its failing transactions. `decimals` can be made to revert or to return a
 *   value no `uint8` holds (the "garbage token" of the tests). Storage: the balance of
 *   `a` in slot `a`.
 * - {@linkcode erc721Creation}: `mint(to)` (next id, from 1), `transferFrom` (by the
 *   owner only), `ownerOf`, `balanceOf`, `supportsInterface` (ERC-165 `0x01ffc9a7` and
 *   ERC-721 `0x80ac58cd`), `name`, `symbol`. `Transfer` with the token id as 4th topic,
 *   or — `indexedTokenId: false` — in the data (3 topics, as pre-standard NFTs did).
 *   Storage: the counter in slot 0, the owner of `id` in slot `id + 2^128`, the count of
 *   `a` in slot `a`.
 *
 * @module
 */
import { keccak256, toHex } from "viem";
import { assemble, creationCode } from "./evm_asm.ts";

/** `keccak256("Transfer(address,address,uint256)")`: ERC-20 and ERC-721 alike. */
export const TRANSFER_TOPIC = keccak256(toHex("Transfer(address,address,uint256)"));

const MASK = "0xffffffffffffffffffffffffffffffffffffffff";
const OWNER_BASE = "PUSH17 0x0100000000000000000000000000000000";

/** Returns the 32-byte word on top of the stack. */
const RETURN_TOP = ["PUSH0", "MSTORE", "PUSH1 32", "PUSH0", "RETURN"];

function leftAligned(text: string): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > 32) throw new Error(`Cannot embed "${text}": over 32 bytes`);
  let hex = "0x";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex.padEnd(66, "0");
}

/** Returns an ABI-encoded `string` of at most 32 bytes. */
function returnString(text: string): string[] {
  const size = new TextEncoder().encode(text).length;
  return [
    "PUSH1 0x20",
    "PUSH0",
    "MSTORE",
    `PUSH1 ${size}`,
    "PUSH1 32",
    "MSTORE",
    `PUSH32 ${leftAligned(text)}`,
    "PUSH1 64",
    "MSTORE",
    "PUSH1 96",
    "PUSH0",
    "RETURN",
  ];
}

/** Reverts with Solidity's `Error(string)` (a reason of at most 32 bytes). */
function revertString(text: string): string[] {
  const size = new TextEncoder().encode(text).length;
  return [
    "PUSH32 0x08c379a000000000000000000000000000000000000000000000000000000000",
    "PUSH0",
    "MSTORE",
    "PUSH1 0x20",
    "PUSH1 4",
    "MSTORE",
    `PUSH1 ${size}`,
    "PUSH1 36",
    "MSTORE",
    `PUSH32 ${leftAligned(text)}`,
    "PUSH1 68",
    "MSTORE",
    "PUSH1 100",
    "PUSH0",
    "REVERT",
  ];
}

/** Jumps to the label of the called selector; anything else reverts without data. */
function dispatch(table: readonly (readonly [selector: string, label: string])[]): string[] {
  return [
    "PUSH0",
    "CALLDATALOAD",
    "PUSH1 0xe0",
    "SHR",
    ...table.flatMap(([selector, label]) => [
      "DUP1",
      `PUSH4 ${selector}`,
      "EQ",
      `PUSH @${label}`,
      "JUMPI",
    ]),
    "PUSH0",
    "PUSH0",
    "REVERT",
  ];
}

/** Loads the address argument at calldata offset `at`, upper bits cleared. */
function addressArg(at: number): string[] {
  return [`PUSH1 ${at}`, "CALLDATALOAD", `PUSH20 ${MASK}`, "AND"];
}

/** Options for {@linkcode erc20Creation}. */
export interface Erc20Options {
  name: string;
  symbol: string;
  /** A `uint8`; `"revert"` reverts; `"garbage"` returns 2^256 − 1. */
  decimals: number | "revert" | "garbage";
  /** Raw units minted to the deployer. */
  supply: bigint;
}

/** Creation code of the demo ERC-20 (see the module's doc). */
export function erc20Creation(options: Erc20Options): `0x${string}` {
  const decimals = options.decimals === "revert"
    ? ["PUSH0", "PUSH0", "REVERT"]
    : options.decimals === "garbage"
    ? [`PUSH32 0x${"f".repeat(64)}`, ...RETURN_TOP]
    : [`PUSH ${options.decimals}`, ...RETURN_TOP];
  const runtime = assemble([
    ...dispatch([
      ["0xa9059cbb", "transfer"],
      ["0x70a08231", "balanceOf"],
      ["0x313ce567", "decimals"],
      ["0x95d89b41", "symbol"],
      ["0x06fdde03", "name"],
    ]),
    "transfer:",
    "PUSH1 36",
    "CALLDATALOAD", // [amount]
    "CALLER",
    "SLOAD", // [amount, balance]
    "DUP2",
    "DUP2",
    "LT", // balance < amount
    "PUSH @insufficient",
    "JUMPI",
    "DUP2",
    "SWAP1",
    "SUB", // [amount, balance - amount]
    "CALLER",
    "SSTORE", // [amount]
    ...addressArg(4), // [amount, to]
    "DUP1",
    "SLOAD",
    "DUP3",
    "ADD",
    "DUP2",
    "SSTORE", // balance of `to` += amount
    "DUP2",
    "PUSH0",
    "MSTORE", // data: amount
    "CALLER",
    `PUSH32 ${TRANSFER_TOPIC}`,
    "PUSH1 32",
    "PUSH0",
    "LOG3", // Transfer(caller, to, amount)
    "PUSH1 1",
    ...RETURN_TOP,
    "insufficient:",
    ...revertString("ERC20: insufficient balance"),
    "balanceOf:",
    ...addressArg(4),
    "SLOAD",
    ...RETURN_TOP,
    "decimals:",
    ...decimals,
    "symbol:",
    ...returnString(options.symbol),
    "name:",
    ...returnString(options.name),
  ]);
  const supply = `PUSH ${options.supply}`;
  return creationCode(runtime, [
    supply,
    "CALLER",
    "SSTORE",
    supply,
    "PUSH0",
    "MSTORE",
    "CALLER",
    "PUSH0",
    `PUSH32 ${TRANSFER_TOPIC}`,
    "PUSH1 32",
    "PUSH0",
    "LOG3", // Transfer(0, deployer, supply)
  ]);
}

/** Options for {@linkcode erc721Creation}. */
export interface Erc721Options {
  name: string;
  symbol: string;
  /** The token id as `Transfer`'s 4th topic (ERC-721), or in the data. Default true. */
  indexedTokenId?: boolean;
}

/** Creation code of the demo ERC-721 (see the module's doc). */
export function erc721Creation(options: Erc721Options): `0x${string}` {
  const indexed = options.indexedTokenId ?? true;
  // Stack before: [to, id] (mint: from is 0) — emits Transfer(0, to, id).
  const mintLog = indexed
    ? ["DUP1", "DUP3", "PUSH0", `PUSH32 ${TRANSFER_TOPIC}`, "PUSH0", "PUSH0", "LOG4"]
    : [
      "DUP1",
      "PUSH0",
      "MSTORE",
      "DUP2",
      "PUSH0",
      `PUSH32 ${TRANSFER_TOPIC}`,
      "PUSH1 32",
      "PUSH0",
      "LOG3",
    ];
  // Stack before: [id, owner, to] — emits Transfer(owner, to, id).
  const transferLog = indexed
    ? ["DUP3", "DUP2", "DUP4", `PUSH32 ${TRANSFER_TOPIC}`, "PUSH0", "PUSH0", "LOG4"]
    : [
      "DUP3",
      "PUSH0",
      "MSTORE",
      "DUP1",
      "DUP3",
      `PUSH32 ${TRANSFER_TOPIC}`,
      "PUSH1 32",
      "PUSH0",
      "LOG3",
    ];
  const runtime = assemble([
    ...dispatch([
      ["0x6a627842", "mint"],
      ["0x23b872dd", "transferFrom"],
      ["0x6352211e", "ownerOf"],
      ["0x70a08231", "balanceOf"],
      ["0x01ffc9a7", "supportsInterface"],
      ["0x95d89b41", "symbol"],
      ["0x06fdde03", "name"],
    ]),
    "mint:",
    ...addressArg(4), // [to]
    "PUSH0",
    "SLOAD",
    "PUSH1 1",
    "ADD", // [to, id]
    "DUP1",
    "PUSH0",
    "SSTORE", // counter = id
    "DUP2",
    "DUP2",
    OWNER_BASE,
    "ADD",
    "SSTORE", // owner of id = to
    "DUP2",
    "SLOAD",
    "PUSH1 1",
    "ADD",
    "DUP3",
    "SSTORE", // count of to += 1
    ...mintLog,
    ...RETURN_TOP, // returns id
    "transferFrom:",
    "PUSH1 68",
    "CALLDATALOAD", // [id]
    "DUP1",
    OWNER_BASE,
    "ADD",
    "SLOAD", // [id, owner]
    "DUP1",
    "CALLER",
    "EQ",
    "ISZERO",
    "PUSH @notOwner",
    "JUMPI",
    "DUP1",
    ...addressArg(4),
    "EQ",
    "ISZERO",
    "PUSH @notOwner",
    "JUMPI",
    ...addressArg(36), // [id, owner, to]
    "DUP1",
    "DUP4",
    OWNER_BASE,
    "ADD",
    "SSTORE", // owner of id = to
    "DUP2",
    "SLOAD",
    "PUSH1 1",
    "SWAP1",
    "SUB",
    "DUP3",
    "SSTORE", // count of owner -= 1
    "DUP1",
    "SLOAD",
    "PUSH1 1",
    "ADD",
    "DUP2",
    "SSTORE", // count of to += 1
    ...transferLog,
    "STOP",
    "notOwner:",
    ...revertString("ERC721: not the owner"),
    "ownerOf:",
    "PUSH1 4",
    "CALLDATALOAD",
    OWNER_BASE,
    "ADD",
    "SLOAD",
    ...RETURN_TOP,
    "balanceOf:",
    ...addressArg(4),
    "SLOAD",
    ...RETURN_TOP,
    "supportsInterface:",
    "PUSH1 4",
    "CALLDATALOAD",
    "PUSH1 0xe0",
    "SHR",
    "DUP1",
    "PUSH4 0x80ac58cd",
    "EQ",
    "SWAP1",
    "PUSH4 0x01ffc9a7",
    "EQ",
    "OR",
    ...RETURN_TOP,
    "symbol:",
    ...returnString(options.symbol),
    "name:",
    ...returnString(options.name),
  ]);
  return creationCode(runtime);
}
