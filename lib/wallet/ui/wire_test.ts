import { deepEqual, equal } from "node:assert/strict";
import {
  MAX_SYMBOL_CHARS,
  parseActivityItem,
  parseChainStatus,
  parseWalletMessage,
  parseWalletView,
  parseWatchList,
} from "./wire.ts";

const W = "0x976EA74026E726554dB657fA54763abd0C3a0aa9";
const H = `0x${"ab".repeat(32)}`;
const item = {
  id: `${H}:0`,
  kind: "erc20",
  direction: "in",
  txHash: H,
  blockNumber: 7,
  blockHash: H,
  status: "included",
  confirmations: 1,
  from: W,
  to: W,
  amount: "2.5",
  raw: "2500000",
  token: { address: W, symbol: "DEMO", decimals: 6 },
  ts: 1_700_000_000_000,
};

Deno.test("[wallet ui wire] an item: accepted as sent; bounded; bad shapes refused", () => {
  deepEqual(parseActivityItem(item), item);
  equal(parseActivityItem({ ...item, amount: 2.5 }), null, "amounts are strings, never floats");
  equal(parseActivityItem({ ...item, txHash: "0x12" }), null);
  equal(parseActivityItem({ ...item, status: "lost" }), null);
  equal(parseActivityItem({ ...item, from: "0xnothex" }), null);
  const long = parseActivityItem({ ...item, token: { ...item.token, symbol: "X".repeat(300) } });
  equal([...(long?.token?.symbol ?? "")].length, MAX_SYMBOL_CHARS);
  const failed = parseActivityItem({ ...item, status: "failed", revertReason: "r".repeat(1000) });
  equal(failed?.revertReason?.length, 200);
});

Deno.test("[wallet ui wire] a view drops and counts bad items; messages by type", () => {
  const view = {
    address: W,
    chainId: 31337,
    head: 9,
    confirmationsRequired: 3,
    balances: [{
      asset: "native",
      kind: "native",
      symbol: "ETH",
      amount: "1",
      raw: "1",
      decimals: 18,
      usd: 3,
    }],
    balancesBlock: 9,
    activity: [item, { ...item, id: "bad" }],
    next: "12",
  };
  const parsed = parseWalletView(view);
  equal(parsed?.dropped, 1);
  equal(parsed?.value.activity.length, 1);
  equal(parsed?.value.balances[0].usd, 3);
  equal(parseWalletView({ ...view, activity: Array(101).fill(item) }), null, "over a page");
  equal(parseWalletMessage({ type: "item", item, head: 9 })?.type, "item");
  equal(parseWalletMessage({ type: "item", item: { ...item, kind: "erc1155" }, head: 9 }), null);
  equal(
    parseWalletMessage({ type: "balances", balances: view.balances, block: 9 })?.type,
    "balances",
  );
  deepEqual(
    parseWalletMessage({
      type: "reorg",
      from: 8,
      to: 9,
      depth: 2,
      deep: false,
      ancestor: { number: 7, hash: H },
      extra: "ignored",
    }),
    { type: "reorg", from: 8, to: 9, depth: 2, deep: false, ancestor: { number: 7, hash: H } },
  );
  equal(parseWalletMessage("item"), null);
  equal(parseWalletMessage(null), null);
});

Deno.test("[wallet ui wire] chain status and the watch list", () => {
  const status = {
    chainId: 31337,
    rpc: "reconnecting",
    head: 10,
    headHash: H,
    finalized: -2,
    lagMs: 120,
    reorgs: 1,
    deepReorgs: 0,
    lastReorg: { from: 9, to: 10, depth: 2, ancestor: { number: 8, hash: H }, deep: false, at: 5 },
    confirmations: 3,
    finality: 12,
    mempool: "txpool",
    error: "e".repeat(1000),
    updatedAt: 6,
  };
  const parsed = parseChainStatus(status);
  equal(parsed?.rpc, "reconnecting");
  equal(parsed?.error?.length, 300);
  equal(parseChainStatus({ ...status, rpc: "maybe" }), null);
  deepEqual(
    parseWatchList({
      addresses: [{ address: W, label: "main", addedAt: 1 }, { address: 1 }],
      max: 20,
    }),
    { addresses: [{ address: W, label: "main", addedAt: 1 }], max: 20 },
  );
});
