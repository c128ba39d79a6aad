import { equal } from "node:assert/strict";
import type { ActivityItem } from "../types.ts";
import {
  balanceAmount,
  formatAgo,
  formatAmount,
  formatLag,
  formatUsd,
  itemAmount,
  shortHex,
  statusText,
} from "./format.ts";

const base: ActivityItem = {
  id: `0x${"a".repeat(64)}:tx`,
  kind: "native",
  direction: "in",
  txHash: `0x${"a".repeat(64)}`,
  blockNumber: 10,
  blockHash: `0x${"b".repeat(64)}`,
  status: "included",
  confirmations: 2,
  from: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
  to: "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
  amount: "1.5",
  raw: "1500000000000000000",
  ts: 0,
};

Deno.test("[wallet ui format] amounts keep every digit and follow the locale", () => {
  equal(formatAmount("12345678901234567890.5", "en-US"), "12,345,678,901,234,567,890.5");
  equal(formatAmount("10001.5", "de-DE"), "10.001,5");
  equal(formatAmount("0.123456789", "en-US"), "0.123457");
  equal(formatAmount("0.0000001", "en-US"), "<0.000001", "never shown as 0");
  equal(formatAmount("0", "en-US"), "0");
  equal(formatAmount("not a number", "en-US"), "not a number");
  equal(formatUsd(1234.5, "en-US"), "$1,234.50");
  equal(formatUsd(0.001, "en-US"), "<$0.01");
});

Deno.test("[wallet ui format] what moved: ETH, tokens, NFTs, unknown tokens in raw units", () => {
  equal(itemAmount(base, "en-US"), "1.5 ETH");
  const token = { address: base.to!, symbol: "DEMO", decimals: 6 };
  equal(itemAmount({ ...base, kind: "erc20", amount: "2.5", token }, "en-US"), "2.5 DEMO");
  equal(itemAmount({ ...base, kind: "erc721", tokenId: "12", token }, "en-US"), "DEMO #12");
  const unknown = { address: base.to!, symbol: null, decimals: null, unknown: true as const };
  equal(
    itemAmount({ ...base, kind: "erc20", amount: "12345", token: unknown }, "en-US"),
    "12,345 raw units of Unknown token",
  );
  equal(
    balanceAmount({
      asset: base.to!,
      kind: "erc721",
      symbol: "DNFT",
      amount: "3",
      raw: "3",
      decimals: 0,
    }, "en-US"),
    "3 DNFT",
  );
});

Deno.test("[wallet ui format] status chips", () => {
  equal(statusText(base, 3).text, "2 / 3 confirmations");
  equal(statusText({ ...base, confirmations: 7 }, 3).text, "3 / 3 confirmations");
  equal(statusText({ ...base, status: "confirmed", confirmations: 5 }, 3).text, "confirmed");
  equal(statusText({ ...base, status: "pending" }, 3).text, "pending");
  const failed = statusText({ ...base, status: "failed", revertReason: "nope" }, 3);
  equal(failed.text, "failed");
  equal(failed.detail, "Reverted: nope");
  equal(
    statusText({ ...base, status: "replaced", reason: "repriced" }, 3).text,
    "replaced · sped up",
  );
  equal(
    statusText({ ...base, status: "replaced", reason: "cancelled" }, 3).text,
    "replaced · cancelled",
  );
  equal(statusText({ ...base, status: "replaced" }, 3).text, "replaced");
  equal(statusText({ ...base, status: "dropped" }, 3).tone, "bad");
  equal(statusText({ ...base, status: "reorged" }, 3).text, "reorged");
});

Deno.test("[wallet ui format] hashes, ages, lags", () => {
  equal(shortHex(base.txHash), "0xaaaa…aaaa");
  equal(shortHex("0x12"), "0x12");
  equal(formatAgo(10_000, 10_500, "en"), "now");
  equal(formatAgo(0, 12_000, "en"), "12 sec. ago");
  equal(formatAgo(0, 3 * 60_000, "en"), "3 min. ago");
  equal(formatAgo(5_000, 0, "en"), "now", "a time ahead (skew) is now");
  equal(formatLag(850, "en-US"), "850 ms");
  equal(formatLag(1_250, "en-US"), "1.3 s");
  equal(formatLag(180_000, "en-US"), "3 min");
});
