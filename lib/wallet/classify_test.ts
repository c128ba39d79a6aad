import { deepEqual, equal } from "node:assert/strict";
import {
  addressTopic,
  cleanText,
  decodeRevertReason,
  decodeTransfer,
  directionOf,
  formatAmount,
  inputHashOf,
  replacementReason,
  TRANSFER_TOPIC,
} from "./classify.ts";
import type { Hex, RpcLog, RpcTransaction } from "./rpc_schemas.ts";

const A = "0x1111111111111111111111111111111111111111" as Hex;
const B = "0x2222222222222222222222222222222222222222" as Hex;

function log(topics: Hex[], data: Hex): RpcLog {
  return {
    address: "0x3333333333333333333333333333333333333333",
    topics,
    data,
    blockNumber: 1,
    blockHash: `0x${"a".repeat(64)}`,
    transactionHash: `0x${"b".repeat(64)}`,
    transactionIndex: 0,
    logIndex: 0,
  };
}
const word = (n: bigint) => `0x${n.toString(16).padStart(64, "0")}` as Hex;

Deno.test("[classify] Transfer logs: ERC-20 by 3 topics, ERC-721 by 4 or by ERC-165, garbage refused", () => {
  const t3 = [TRANSFER_TOPIC, addressTopic(A), addressTopic(B)];
  deepEqual(decodeTransfer(log(t3, word(1500n)), false), {
    kind: "erc20",
    from: A,
    to: B,
    raw: 1500n,
  });
  deepEqual(decodeTransfer(log(t3, word(7n)), true), {
    kind: "erc721",
    from: A,
    to: B,
    tokenId: 7n,
  });
  deepEqual(decodeTransfer(log([...t3, word(9n)], "0x"), false), {
    kind: "erc721",
    from: A,
    to: B,
    tokenId: 9n,
  });
  equal(decodeTransfer(log([...t3, word(9n)], word(1n)), false), null, "4 topics and data");
  equal(decodeTransfer(log(t3, "0x01"), false), null, "amount not 32 bytes");
  equal(
    decodeTransfer(log([TRANSFER_TOPIC, word(2n ** 200n), addressTopic(B)], word(1n)), false),
    null,
    "a topic that is not an address",
  );
  equal(
    decodeTransfer(log([word(1n), addressTopic(A), addressTopic(B)], word(1n)), false),
    null,
    "another event",
  );
  equal(decodeTransfer(log([TRANSFER_TOPIC, addressTopic(A)], word(1n)), false), null, "2 topics");
});

Deno.test("[classify] direction, amounts, text", () => {
  equal(directionOf(A, A, B), "out");
  equal(directionOf(B, A, B), "in");
  equal(directionOf(A, A, A), "self");
  equal(formatAmount(1_500_000n, 6), "1.5");
  equal(formatAmount(10n ** 18n, 18), "1");
  equal(formatAmount(12345n, null), "12345");
  equal(cleanText("  ok\u0000\u202e?\u200b\u0007 ", 10), "ok?");
  equal(cleanText("x".repeat(300), 200).length, 200);
});

Deno.test("[classify] replacement reasons as viem tells them", () => {
  const replaced = { to: B, value: "5", inputHash: inputHashOf("0x") };
  const tx = (to: Hex | null, value: bigint, input: Hex, from = A): RpcTransaction => ({
    hash: `0x${"c".repeat(64)}`,
    from,
    to,
    nonce: 1,
    value,
    input,
    blockNumber: null,
    blockHash: null,
    transactionIndex: null,
  });
  equal(replacementReason(replaced, tx(B, 5n, "0x")), "repriced");
  equal(replacementReason(replaced, tx(A, 0n, "0x")), "cancelled");
  equal(replacementReason(replaced, tx(B, 6n, "0x")), "replaced");
  equal(replacementReason(replaced, tx(B, 5n, "0x1234")), "replaced");
});

Deno.test("[classify] revert reasons: Error(string), Panic, custom errors; garbage is null", () => {
  const error = "0x08c379a0" +
    "0000000000000000000000000000000000000000000000000000000000000020" +
    "0000000000000000000000000000000000000000000000000000000000000004" +
    "6e6f706500000000000000000000000000000000000000000000000000000000";
  equal(decodeRevertReason(error), "nope");
  equal(decodeRevertReason("0x4e487b71" + "11".padStart(64, "0")), "panic 0x11");
  equal(decodeRevertReason("0xdeadbeef"), "custom error 0xdeadbeef");
  equal(decodeRevertReason("0x08c379a0ffff"), null);
  equal(decodeRevertReason("0x12"), null);
  equal(decodeRevertReason({ data: 1 }), null);
  equal(decodeRevertReason("not hex at all"), null);
});
