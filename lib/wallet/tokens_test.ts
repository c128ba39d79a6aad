import { equal } from "node:assert/strict";
import { RpcFailure } from "./rpc.ts";
import type { Hex } from "./rpc_schemas.ts";
import { parseBool, parseDecimals, parseText } from "./tokens.ts";

const word = (n: bigint) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
const reverted = new RpcFailure("rpc", "execution reverted", 3, "0x");

Deno.test("[tokens] decimals: a uint8-like value, else null (raw units)", () => {
  equal(parseDecimals(word(18n)), 18);
  equal(parseDecimals(word(0n)), 0);
  equal(parseDecimals(word(77n)), 77);
  equal(parseDecimals(word(78n)), null);
  equal(parseDecimals(word(2n ** 256n - 1n)), null);
  equal(parseDecimals("0x12"), null);
  equal(parseDecimals("0x"), null);
  equal(parseDecimals(reverted), null);
});

Deno.test("[tokens] symbol and name: ABI string or bytes32, cleaned and bounded; garbage null", () => {
  const abi = "0x" + "20".padStart(64, "0") + "4".padStart(64, "0") +
    "44454d4f".padEnd(64, "0");
  equal(parseText(abi as Hex, 32), "DEMO");
  equal(parseText(("0x" + "4d4b52".padEnd(64, "0")) as Hex, 32), "MKR", "bytes32");
  const long = "0x" + "20".padStart(64, "0") + "40".padStart(64, "0") + "41".repeat(64);
  equal(parseText(long as Hex, 32), "A".repeat(32));
  equal(parseText(("0x" + "0".repeat(64)) as Hex, 32), null, "empty bytes32");
  equal(parseText("0x1234" as Hex, 32), null);
  equal(parseText("0x", 32), null);
  equal(parseText(reverted, 32), null);
  const lying = "0x" + "20".padStart(64, "0") + "ffff".padStart(64, "0") + "41".repeat(32);
  equal(parseText(lying as Hex, 32), null, "a length beyond the data");
});

Deno.test("[tokens] supportsInterface: only an exact true", () => {
  equal(parseBool(word(1n)), true);
  equal(parseBool(word(0n)), false);
  equal(parseBool(word(2n)), false);
  equal(parseBool("0x01"), false);
  equal(parseBool(reverted), false);
});
