import { deepEqual, equal, ok } from "node:assert/strict";
import type { BusMessage } from "../bus/engine.ts";
import { alertRuleKey } from "../kv/keys.ts";
import { memoryLog } from "../bus/jobs_testing.ts";
import type { NotificationInput } from "../notifications/types.ts";
import { parseAddress } from "../wallet/address.ts";
import type { ActivityItem } from "../wallet/types.ts";
import { waitFor } from "../../tests/_deadline.ts";
import type { StoredRule } from "./evaluate.ts";
import { createRuleStore } from "./store.ts";
import { createWalletAlerts, walletEventsFromMessage } from "./wallet.ts";

const parsed = parseAddress("0x" + "ab".repeat(20));
if (!parsed.ok) throw new Error("test address");
const ADDRESS = parsed.address;
const TX = "0x" + "12".repeat(32);

function itemMessage(item: Partial<ActivityItem>): BusMessage {
  const full: ActivityItem = {
    id: `${TX}:tx`,
    kind: "native",
    direction: "in",
    txHash: TX,
    blockNumber: 5,
    blockHash: "0x" + "34".repeat(32),
    status: "included",
    confirmations: 1,
    from: ADDRESS,
    to: ADDRESS,
    amount: "2.5",
    raw: "2500000000000000000",
    ts: 0,
    ...item,
  };
  return {
    channel: `wallet:${ADDRESS}`,
    epoch: "e",
    offset: 1,
    ts: 0,
    data: { type: "item", item: full, head: 5 },
  };
}

Deno.test("[alerts] wallet: a transfer ≥ the amount to a watched address fires once, with a link to the activity", async () => {
  const kv = await Deno.openKv(":memory:");
  const sent: NotificationInput[] = [];
  const notify = (inputs: NotificationInput[]) => {
    sent.push(...inputs);
    return Promise.resolve({ refused: [] });
  };
  const rules = createRuleStore({ kv });
  const big = await rules.create("u1", {
    condition: { kind: "incoming_transfer", address: ADDRESS, minAmount: 2 },
    name: "salary",
  });
  const huge = await rules.create("u1", {
    condition: { kind: "incoming_transfer", address: ADDRESS, minAmount: 10 },
  });
  const confirmed = await rules.create("u2", {
    condition: { kind: "tx_status", address: ADDRESS, status: "confirmed" },
    trigger: { mode: "every", cooldownMs: 0 },
  });
  ok(big.ok && huge.ok && confirmed.ok);
  // Two isolates' worth of handlers on one KV.
  const wallet = await createWalletAlerts({
    kv,
    notify,
    backend: "outbox",
    log: memoryLog(),
    jobs: { leaseTtlMs: 300, claimTtlMs: 300 },
  });
  try {
    wallet.start();
    const pending = itemMessage({ status: "pending" });
    equal(walletEventsFromMessage(pending).length, 0, "nothing before a block");
    const included = itemMessage({});
    // Every isolate sees the bus message: the same event twice.
    wallet.onBusMessage(included);
    wallet.onBusMessage(included);
    // It is confirmed later: no second transfer alert, one status alert.
    const later = itemMessage({ status: "confirmed", confirmations: 3 });
    wallet.onBusMessage(later);
    wallet.onBusMessage(later);
    await waitFor(() => sent.length === 2, { timeoutMs: 10_000, what: "two notifications" });
    await new Promise((r) => setTimeout(r, 300)); // nothing more comes
    equal(sent.length, 2);
    const transfer = sent.find((n) => n.userId === "u1")!;
    equal(transfer.title, "Received 2.5 ETH");
    equal(transfer.category, "wallet");
    equal(transfer.link, `/wallet?address=${ADDRESS}&tx=${TX}`);
    ok(transfer.body.includes("salary"));
    const status = sent.find((n) => n.userId === "u2")!;
    equal(status.title, "Transaction confirmed");
    const stored = (await kv.get<StoredRule>(alertRuleKey("u1", big.ok ? big.rule.id : ""))).value!;
    equal(stored.enabled, false, "once: disabled");
    equal(stored.firedCount, 1);
    const untouched = (await kv.get<StoredRule>(alertRuleKey("u1", huge.ok ? huge.rule.id : "")))
      .value!;
    equal(untouched.firedCount, 0, "10 ETH not reached");
    deepEqual(wallet.stats().firings, 2);
  } finally {
    await wallet.stop();
    kv.close();
  }
});

Deno.test("[alerts] wallet: bus messages become events (reorg, failed, tokens)", () => {
  const reorg: BusMessage = {
    channel: `wallet:${ADDRESS}`,
    epoch: "e",
    offset: 2,
    ts: 0,
    data: {
      type: "reorg",
      from: 10,
      to: 11,
      depth: 2,
      ancestor: { number: 9, hash: null },
      deep: false,
    },
  };
  deepEqual(walletEventsFromMessage(reorg), [{
    kind: "reorg",
    address: ADDRESS,
    depth: 2,
    fromBlock: 10,
  }]);
  const failed = walletEventsFromMessage(itemMessage({ status: "failed", direction: "out" }));
  deepEqual(failed.map((e) => e.kind), ["tx_status"]);
  const token = walletEventsFromMessage(
    itemMessage({
      kind: "erc20",
      id: `${TX}:0`,
      amount: "100",
      token: { address: ADDRESS, symbol: "USDC", decimals: 6 },
    }),
    "ETH",
  );
  equal(token[0].kind, "incoming_transfer");
  equal(token[0].kind === "incoming_transfer" && token[0].asset, "USDC");
  deepEqual(walletEventsFromMessage({ ...reorg, channel: "prices:BTC-USD" }), []);
});
