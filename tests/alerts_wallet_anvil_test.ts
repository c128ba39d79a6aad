/**
 * Wallet → notification against a real anvil (lib/wallet's listener, in process): a rule
 * "incoming transfer ≥ 1 ETH" on a watched address; a 0.5 ETH transfer does nothing, a 2 ETH
 * transfer produces exactly one notification linking to the activity, however many
 * confirmations follow.
 */
import { equal, ok } from "node:assert/strict";
import { startAnvil } from "../lib/wallet/anvil.ts";
import { DEV_ACCOUNTS, devChain } from "../lib/wallet/dev_chain.ts";
import type { InboxPage } from "../lib/notifications/types.ts";
import { serveApp } from "./_app.ts";
import { waitFor } from "./_deadline.ts";
import { chainEnv, signUp, waitHead, waitItem, watch } from "./_wallet.ts";

const ETH = 10n ** 18n;
const [A0, , , , , , W] = DEV_ACCOUNTS;

Deno.test({
  name:
    "[alerts wallet] a transfer ≥ the rule's amount to a watched address on anvil: one notification with a link",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using anvil = await startAnvil();
    const chain = devChain(anvil.url);
    await using app = await serveApp({ env: chainEnv(anvil.url) });
    const cookie = await signUp(app, "walle");
    const added = await watch(app, cookie, { address: W, label: "main" });
    equal(added.status, 201, await added.clone().text());
    await added.body?.cancel();
    const rule = await app.request("/api/alerts", {
      method: "POST",
      headers: { "content-type": "application/json", cookie },
      body: JSON.stringify({ condition: { kind: "incoming_transfer", address: W, minAmount: 1 } }),
    });
    equal(rule.status, 201, await rule.clone().text());
    const { rule: created } = await rule.json();
    const inbox = async (): Promise<InboxPage> =>
      await (await app.request("/api/notifications", { headers: { cookie } })).json();

    const small = await chain.send({ from: A0, to: W, value: ETH / 2n });
    const big = await chain.send({ from: A0, to: W, value: 2n * ETH });
    await chain.mine();
    const included = await waitItem(
      app,
      cookie,
      W,
      (i) => i.txHash === big && i.status !== "pending",
      "the 2 ETH transfer in a block",
    );
    await waitItem(
      app,
      cookie,
      W,
      (i) => i.txHash === small && i.status !== "pending",
      "the 0.5 ETH one",
    );
    const page = await waitFor(async () => {
      const p = await inbox();
      return p.items.length > 0 && p;
    }, { timeoutMs: 15_000, what: "the wallet notification" });
    // Confirmations follow (each a new message on wallet:{address}): nothing more comes.
    for (let i = 0; i < 3; i++) {
      await chain.mine();
      await waitHead(app, included.blockNumber! + i + 1);
    }
    await waitItem(
      app,
      cookie,
      W,
      (i) => i.txHash === big && i.status === "confirmed",
      "confirmed",
    );
    await new Promise((r) => setTimeout(r, 500));
    const after = await inbox();
    equal(after.items.length, 1, "exactly one notification");
    const [item] = page.items;
    equal(item.category, "wallet");
    equal(item.title, "Received 2 ETH");
    equal(item.link, `/wallet?address=${W}&tx=${big}`);
    equal(item.data.ruleId, created.id);
    equal(after.counts.unread, 1);
    const rules = await (await app.request("/api/alerts", { headers: { cookie } })).json();
    equal(rules.rules[0].firedCount, 1);
    equal(rules.rules[0].enabled, false, "a once rule pauses itself");
    ok(rules.rules[0].lastFiredAt > 0);
  },
});
