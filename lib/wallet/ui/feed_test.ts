import { deepEqual, equal } from "node:assert/strict";
import type { ActivityItem, WalletView } from "../types.ts";
import {
  applyMessage,
  feedFromView,
  itemOfTx,
  MAX_FEED_ITEMS,
  totalUsd,
  withFirstPage,
  withOlderPage,
  withoutReorg,
} from "./feed.ts";

const W = "0x976EA74026E726554dB657fA54763abd0C3a0aa9";
const A = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

function hash(n: number): string {
  return `0x${n.toString(16).padStart(64, "0")}`;
}

function item(n: number, patch: Partial<ActivityItem> = {}): ActivityItem {
  return {
    id: `${hash(n)}:tx`,
    kind: "native",
    direction: "in",
    txHash: hash(n),
    blockNumber: null,
    blockHash: null,
    status: "pending",
    confirmations: 0,
    from: A,
    to: W,
    amount: "1",
    raw: "1000000000000000000",
    ts: n,
    ...patch,
  };
}

function view(activity: ActivityItem[], patch: Partial<WalletView> = {}): WalletView {
  return {
    address: W,
    chainId: 31337,
    head: 10,
    confirmationsRequired: 3,
    balances: [],
    balancesBlock: null,
    activity,
    next: null,
    ...patch,
  };
}

const ids = (items: ActivityItem[]) => items.map((i) => i.txHash.slice(-2));

Deno.test("[wallet ui feed] item messages upsert by id in place; new ids go on top", () => {
  let feed = feedFromView(view([item(2), item(1)]));
  feed = applyMessage(feed, { type: "item", item: item(3), head: 11 }, 0);
  deepEqual(ids(feed.items), ["03", "02", "01"]);
  equal(feed.head, 11);
  const included = item(1, { status: "included", blockNumber: 11, confirmations: 1 });
  feed = applyMessage(feed, { type: "item", item: included, head: 11 }, 0);
  deepEqual(ids(feed.items), ["03", "02", "01"], "an update stays where it is");
  equal(feed.items[2].status, "included");
  // The same message again changes nothing visible.
  const again = applyMessage(feed, { type: "item", item: included, head: 11 }, 0);
  deepEqual(again.items, feed.items);
});

Deno.test("[wallet ui feed] balances are replaced whole; a reorg is noted until dismissed", () => {
  let feed = feedFromView(view([]));
  const eth = {
    asset: "native",
    kind: "native" as const,
    symbol: "ETH",
    amount: "2",
    raw: "2",
    decimals: 18,
    usd: 6000,
  };
  feed = applyMessage(feed, { type: "balances", balances: [eth], block: 12 }, 0);
  deepEqual(feed.balances, [eth]);
  equal(feed.balancesBlock, 12);
  feed = applyMessage(feed, { type: "balances", balances: [], block: 10 }, 0);
  deepEqual(feed.balances, [], "a reorg's balances read at the ancestor replace newer ones");
  const reorg = {
    type: "reorg" as const,
    from: 9,
    to: 10,
    depth: 2,
    deep: false,
    ancestor: { number: 8, hash: hash(8) },
  };
  feed = applyMessage(feed, reorg, 1234);
  deepEqual(feed.reorg, {
    from: 9,
    to: 10,
    depth: 2,
    deep: false,
    ancestor: reorg.ancestor,
    seenAt: 1234,
  });
  equal(withoutReorg(feed).reorg, null);
  equal(withFirstPage(feed, view([])).reorg?.seenAt, 1234, "a re-read keeps the notice");
});

Deno.test("[wallet ui feed] older pages append unseen ids; a first page starts paging over", () => {
  let feed = feedFromView(view([item(5), item(4)], { next: "4" }));
  feed = applyMessage(feed, { type: "item", item: item(6), head: 10 }, 0);
  feed = withOlderPage(feed, view([item(4), item(3), item(2)], { next: "2" }));
  deepEqual(ids(feed.items), ["06", "05", "04", "03", "02"]);
  equal(feed.next, "2");
  feed = withOlderPage(feed, view([item(1)], { next: null }));
  equal(feed.next, null);
  const other = withOlderPage(feed, view([item(0)], { address: A }));
  equal(other, feed, "a page of another address is ignored");
  const fresh = withFirstPage(feed, view([item(7), item(6)], { next: "6" }));
  deepEqual(ids(fresh.items), ["07", "06"]);
  equal(fresh.next, "6");
});

Deno.test("[wallet ui feed] bounded: past MAX_FEED_ITEMS the oldest go and paging stops", () => {
  const many = Array.from({ length: MAX_FEED_ITEMS }, (_, i) => item(MAX_FEED_ITEMS - i));
  let feed = feedFromView(view(many, { next: "1" }));
  feed = applyMessage(feed, { type: "item", item: item(MAX_FEED_ITEMS + 1), head: 10 }, 0);
  equal(feed.items.length, MAX_FEED_ITEMS);
  equal(feed.items[0].txHash, hash(MAX_FEED_ITEMS + 1));
  equal(feed.next, null);
  equal(feed.trimmed, true);
});

Deno.test("[wallet ui feed] totals and lookups", () => {
  equal(totalUsd([]), null);
  const b = {
    asset: "native",
    kind: "native" as const,
    symbol: "ETH",
    amount: "1",
    raw: "1",
    decimals: 18,
  };
  equal(totalUsd([{ ...b, usd: 1.5 }, b, { ...b, usd: 2 }]), 3.5);
  const feed = feedFromView(view([item(2), item(1, { id: `${hash(1)}:0`, kind: "erc20" })]));
  equal(itemOfTx(feed, hash(1).toUpperCase().replace("0X", "0x"))?.id, `${hash(1)}:0`);
  equal(itemOfTx(feed, hash(9)), undefined);
});
