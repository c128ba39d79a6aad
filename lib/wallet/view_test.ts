import { deepEqual, equal } from "node:assert/strict";
import type { StoredItem } from "./store.ts";
import { boardPrice, viewBalances, viewItem } from "./view.ts";

const item: StoredItem = {
  id: "0xab:tx",
  address: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  seq: 7,
  kind: "native",
  direction: "in",
  txHash: "0xab",
  blockNumber: 10,
  blockHash: "0xcd",
  status: "included",
  from: "0x1",
  to: "0x2",
  amount: "1",
  raw: "1000000000000000000",
  ts: 1,
};

Deno.test("[view] confirmations count from the head; confirmed is derived at the depth", () => {
  deepEqual(
    (({ status, confirmations }) => ({ status, confirmations }))(viewItem(item, 11, 3)),
    { status: "included", confirmations: 2 },
  );
  equal(viewItem(item, 12, 3).status, "confirmed");
  equal(viewItem(item, 12, 3).confirmations, 3);
  equal(viewItem(item, 9, 3).confirmations, 0, "a head behind the item (a reading isolate lags)");
  equal(viewItem({ ...item, status: "failed" }, 20, 3).status, "failed");
  equal(viewItem({ ...item, status: "failed" }, 20, 3).confirmations, 11);
  const pending = viewItem(
    { ...item, status: "pending", blockNumber: null, blockHash: null },
    20,
    3,
  );
  equal(pending.confirmations, 0);
  equal("seq" in pending || "address" in pending, false, "storage fields are not shown");
});

Deno.test("[view] balances: native first, tokens in units, USD where a pair maps, unknown raw", () => {
  const metas = {
    "0xT1": {
      address: "0xT1",
      kind: "erc20" as const,
      name: "Demo",
      symbol: "DEMO",
      decimals: 6,
      unknown: false,
    },
    "0xT2": {
      address: "0xT2",
      kind: "erc20" as const,
      name: null,
      symbol: "JUNK",
      decimals: null,
      unknown: true,
    },
    "0xT3": {
      address: "0xT3",
      kind: "erc721" as const,
      name: null,
      symbol: "DNFT",
      decimals: 0,
      unknown: false,
    },
  };
  const price = boardPrice({
    "ETH-USD": { price: 2000 },
    "DEMO-USD": { price: 0.5 },
    "JUNK-USD": { price: 9 },
  });
  const out = viewBalances(
    {
      block: 5,
      native: "1500000000000000000",
      tokens: { "0xT1": "2500000", "0xT2": "77", "0xT3": "2", "0xT4": null },
    },
    "ETH",
    (a) => metas[a as keyof typeof metas],
    price,
  );
  deepEqual(out, [
    {
      asset: "native",
      kind: "native",
      symbol: "ETH",
      amount: "1.5",
      raw: "1500000000000000000",
      decimals: 18,
      usd: 3000,
    },
    {
      asset: "0xT1",
      kind: "erc20",
      symbol: "DEMO",
      amount: "2.5",
      raw: "2500000",
      decimals: 6,
      usd: 1.25,
    },
    { asset: "0xT3", kind: "erc721", symbol: "DNFT", amount: "2", raw: "2", decimals: 0 },
    {
      asset: "0xT2",
      kind: "erc20",
      symbol: "JUNK",
      amount: "77",
      raw: "77",
      decimals: null,
      unknown: true,
    },
  ]);
});
