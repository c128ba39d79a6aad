/**
 * The wallet against a real anvil (no mocks): the app in process with `CHAIN_RPC_URL`
 * pointing at an anvil that mines only when told (automine off), so every state —
 * pending, included, n confirmations, confirmed, failed, replaced, dropped, reorged — is
 * reached on purpose. One anvil and one app serve the lifecycle steps; the restart test
 * runs the app as a process (killed with SIGKILL) on its own anvil and KV file.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { startAnvil } from "../lib/wallet/anvil.ts";
import { DEV_ACCOUNTS, devChain } from "../lib/wallet/dev_chain.ts";
import type {
  ActivityItem,
  BalancesMessage,
  ItemMessage,
  WalletMessage,
  WalletView,
} from "../lib/wallet/types.ts";
import { checksum } from "../lib/wallet/address.ts";
import { serveApp } from "./_app.ts";
import { openSocket } from "./_ws.ts";
import { fetchWithin, waitFor } from "./_deadline.ts";
import { startApp } from "./_server.ts";
import { busHistoryPrefix, chainCursorKey } from "../lib/kv/keys.ts";
import type { ChainCursor } from "../lib/wallet/store.ts";
import { captureWallet, chainEnv, signUp, waitHead, waitItem, walletOf, watch } from "./_wallet.ts";

const ETH = 10n ** 18n;
const [A0, A1, A2, A3, A4, A5, W] = DEV_ACCOUNTS;
const checksumOf = (a: string) => checksum(a.toLowerCase());

function itemsOf(messages: WalletMessage[], txHash: string): ActivityItem[] {
  return messages.filter((m): m is ItemMessage => m.type === "item" && m.item.txHash === txHash)
    .map((m) => m.item);
}

Deno.test("[wallet] lifecycle on anvil: pending → confirmed, tokens, failed, replaced, dropped, reorged", async (t) => {
  await using anvil = await startAnvil();
  const chain = devChain(anvil.url);
  await using app = await serveApp({ env: chainEnv(anvil.url) });
  const cookie = await signUp(app, "ada");
  const messages = captureWallet(app, W);
  const added = await watch(app, cookie, { address: W, label: "main" });
  equal(added.status, 201, await added.clone().text());
  await added.body?.cancel();
  let demoToken = "";

  await t.step("an ETH transfer: pending, included, 1..3 confirmations, confirmed", async () => {
    const hash = await chain.send({ from: A0, to: W, value: 3n * ETH / 2n });
    const pending = await waitItem(
      app,
      cookie,
      W,
      (i) => i.txHash === hash,
      "the transfer to appear pending",
    );
    equal(pending.status, "pending");
    equal(pending.kind, "native");
    equal(pending.direction, "in");
    equal(pending.amount, "1.5");
    equal(pending.blockNumber, null);
    equal(pending.confirmations, 0);
    await chain.mine();
    const included = await waitItem(
      app,
      cookie,
      W,
      (i) => i.txHash === hash && i.status === "included",
      "inclusion",
    );
    equal(included.confirmations, 1);
    ok(included.blockHash?.startsWith("0x"));
    // One block at a time, each seen by the listener: every count is told.
    for (let i = 0; i < 2; i++) {
      await chain.mine();
      await waitHead(app, included.blockNumber! + i + 1);
    }
    const confirmed = await waitItem(
      app,
      cookie,
      W,
      (i) => i.txHash === hash && i.status === "confirmed",
      "3 confirmations",
    );
    equal(confirmed.confirmations, 3);
    await waitFor(() => itemsOf(messages, hash).some((i) => i.status === "confirmed"), {
      timeoutMs: 10_000,
      what: "the confirmed item on wallet:{address}",
    });
    const told = itemsOf(messages, hash).map((i) => `${i.status}:${i.confirmations}`);
    deepEqual(
      told,
      ["pending:0", "included:1", "included:2", "confirmed:3"],
      "every step told in order",
    );
    const view = await walletOf(app, cookie, W);
    const native = view.balances.find((b) => b.asset === "native");
    equal(native?.amount, "10001.5");
    equal(native?.symbol, "ETH");
  });

  await t.step(
    "ERC-20 scaled by decimals; ERC-721 by 4 topics and by ERC-165; a garbage token raw",
    async () => {
      const token = await chain.deployErc20(A0, {
        name: "Demo Token",
        symbol: "DEMO",
        decimals: 6,
        supply: 10n ** 15n,
      }, true);
      const nft = await chain.deployErc721(A0, { name: "Demo NFT", symbol: "DNFT" }, true);
      const kitty = await chain.deployErc721(A0, {
        name: "Old NFT",
        symbol: "KITTY",
        indexedTokenId: false,
      }, true);
      const junk = await chain.deployErc20(A0, {
        name: "Junk",
        symbol: "JUNK",
        decimals: "garbage",
        supply: 10n ** 9n,
      }, true);
      const h20 = await chain.send({
        from: A0,
        to: token,
        data: chain.erc20Transfer(W, 2_500_000n),
      });
      const h721 = await chain.send({ from: A0, to: nft, data: chain.erc721Mint(W) });
      const hKitty = await chain.send({ from: A0, to: kitty, data: chain.erc721Mint(W) });
      const hJunk = await chain.send({ from: A0, to: junk, data: chain.erc20Transfer(W, 12_345n) });
      await chain.mine();
      const erc20 = await waitItem(app, cookie, W, (i) => i.txHash === h20, "the ERC-20 transfer");
      equal(erc20.kind, "erc20");
      equal(erc20.direction, "in");
      equal(erc20.amount, "2.5");
      equal(erc20.raw, "2500000");
      equal(erc20.from, A0);
      equal(erc20.to, W);
      deepEqual(erc20.token, { address: checksumOf(token), symbol: "DEMO", decimals: 6 });
      const minted = await waitItem(app, cookie, W, (i) => i.txHash === h721, "the ERC-721 mint");
      equal(minted.kind, "erc721");
      equal(minted.tokenId, "1");
      equal(minted.amount, undefined);
      equal(minted.from, "0x0000000000000000000000000000000000000000");
      equal(minted.token?.symbol, "DNFT");
      const old = await waitItem(
        app,
        cookie,
        W,
        (i) => i.txHash === hKitty,
        "the 3-topic NFT mint",
      );
      equal(old.kind, "erc721", "a 3-topic Transfer of an ERC-165 ERC-721 contract is an NFT");
      equal(old.tokenId, "1");
      const raw = await waitItem(
        app,
        cookie,
        W,
        (i) => i.txHash === hJunk,
        "the garbage token's transfer",
      );
      equal(raw.kind, "erc20");
      equal(raw.amount, "12345", "raw units");
      deepEqual(raw.token, {
        address: checksumOf(junk),
        symbol: "JUNK",
        decimals: null,
        unknown: true,
      });
      const view = await waitFor(async () => {
        const v = await walletOf(app, cookie, W);
        return v.balances.length >= 5 ? v : null;
      }, { timeoutMs: 10_000, what: "the token balances" });
      const bySymbol = Object.fromEntries(view.balances.map((b) => [b.symbol, b]));
      equal(bySymbol.DEMO?.amount, "2.5");
      equal(bySymbol.DNFT?.amount, "1");
      equal(bySymbol.DNFT?.kind, "erc721");
      equal(bySymbol.KITTY?.amount, "1");
      equal(bySymbol.JUNK?.amount, "12345");
      equal(bySymbol.JUNK?.unknown, true);
      demoToken = token;
    },
  );

  await t.step("a reverting transaction is failed, with its revert reason", async () => {
    const hash = await chain.send({
      from: W,
      to: demoToken,
      data: chain.erc20Transfer(A0, 5_000_000n),
      gas: 100_000n,
    });
    await chain.mine();
    const failed = await waitItem(
      app,
      cookie,
      W,
      (i) => i.txHash === hash && i.status !== "pending",
      "the failure",
    );
    equal(failed.status, "failed");
    equal(failed.kind, "native");
    equal(failed.direction, "out");
    equal(failed.revertReason, "ERC20: insufficient balance");
    equal(failed.confirmations, 1);
  });

  await t.step(
    "same nonce, higher fee: the first is replaced (repriced) by the second; a cancel is cancelled",
    async () => {
      const gwei = 10n ** 9n;
      const nonce1 = await chain.rpc.nonce(A1.toLowerCase() as `0x${string}`, "pending");
      const first = await chain.send({
        from: A1,
        to: W,
        value: ETH,
        nonce: nonce1,
        maxFeePerGas: 3n * gwei,
        maxPriorityFeePerGas: gwei,
      });
      const nonce2 = await chain.rpc.nonce(A2.toLowerCase() as `0x${string}`, "pending");
      const doomed = await chain.send({
        from: A2,
        to: W,
        value: ETH,
        nonce: nonce2,
        maxFeePerGas: 3n * gwei,
        maxPriorityFeePerGas: gwei,
      });
      await waitItem(
        app,
        cookie,
        W,
        (i) => i.txHash === first && i.status === "pending",
        "the first to be pending",
      );
      await waitItem(
        app,
        cookie,
        W,
        (i) => i.txHash === doomed && i.status === "pending",
        "the second sender's to be pending",
      );
      const second = await chain.send({
        from: A1,
        to: W,
        value: ETH,
        nonce: nonce1,
        maxFeePerGas: 6n * gwei,
        maxPriorityFeePerGas: 2n * gwei,
      });
      const cancel = await chain.send({
        from: A2,
        to: A2,
        value: 0n,
        nonce: nonce2,
        maxFeePerGas: 6n * gwei,
        maxPriorityFeePerGas: 2n * gwei,
      });
      await chain.mine();
      const replaced = await waitItem(
        app,
        cookie,
        W,
        (i) => i.txHash === first && i.status === "replaced",
        "the first to be replaced",
      );
      equal(replaced.replacedBy, second);
      equal(replaced.reason, "repriced");
      equal(replaced.confirmations, 0);
      const cancelled = await waitItem(
        app,
        cookie,
        W,
        (i) => i.txHash === doomed && i.status === "replaced",
        "the cancelled one",
      );
      equal(cancelled.replacedBy, cancel);
      equal(cancelled.reason, "cancelled");
      const included = await waitItem(
        app,
        cookie,
        W,
        (i) => i.txHash === second,
        "the replacement's item",
      );
      equal(included.status, "included");
      for (let i = 0; i < 2; i++) {
        await chain.mine();
        await waitHead(app, included.blockNumber! + i + 1);
      }
      await waitItem(
        app,
        cookie,
        W,
        (i) => i.txHash === second && i.status === "confirmed",
        "the replacement to confirm",
      );
    },
  );

  await t.step("anvil_dropTransaction: a pending transaction is dropped", async () => {
    const hash = await chain.send({ from: A3, to: W, value: ETH });
    await waitItem(
      app,
      cookie,
      W,
      (i) => i.txHash === hash && i.status === "pending",
      "the transfer to be pending",
    );
    await chain.drop(hash);
    const dropped = await waitItem(
      app,
      cookie,
      W,
      (i) => i.txHash === hash && i.status !== "pending",
      "the drop",
    );
    equal(dropped.status, "dropped");
    equal(dropped.blockNumber, null);
  });

  await t.step(
    "anvil_reorg of depth 2: the transfer is reorged, the balance corrected, the new branch ingested",
    async () => {
      const hash = await chain.send({ from: A4, to: W, value: ETH / 2n });
      await chain.mine();
      const included = await waitItem(
        app,
        cookie,
        W,
        (i) => i.txHash === hash && i.status === "included",
        "the transfer's inclusion",
      );
      const x = included.blockNumber!;
      await chain.mine();
      await waitHead(app, x + 1);
      const before = BigInt((await walletOf(app, cookie, W)).balances[0].raw);
      const mark = messages.length;
      await chain.reorg(2, [[{ from: A5, to: W, value: ETH / 4n }, 0]]);
      const reorged = await waitItem(
        app,
        cookie,
        W,
        (i) => i.txHash === hash && i.status === "reorged",
        "the transfer to be reorged",
      );
      equal(reorged.blockNumber, null);
      equal(reorged.confirmations, 0);
      const fresh = await waitItem(
        app,
        cookie,
        W,
        (i) => i.from === A5 && i.status === "included",
        "the new branch's transfer",
      );
      equal(fresh.blockNumber, x, "the new branch's first block carries it");
      const expected = before - ETH / 2n + ETH / 4n;
      await waitFor(
        async () => BigInt((await walletOf(app, cookie, W)).balances[0].raw) === expected,
        {
          timeoutMs: 10_000,
          what: "the balance to be corrected",
        },
      );
      await waitFor(
        () => messages.slice(mark).some((m) => m.type === "item" && m.item.txHash === fresh.txHash),
        {
          timeoutMs: 10_000,
          what: "the new branch's item on the channel",
        },
      );
      const after = messages.slice(mark);
      const reorgAt = after.findIndex((m) => m.type === "reorg");
      ok(reorgAt >= 0, "a reorg message");
      deepEqual(
        { ...after[reorgAt], ancestor: undefined },
        { type: "reorg", from: x, to: x + 1, depth: 2, deep: false, ancestor: undefined },
      );
      const reorgedAt = after.findIndex((m) =>
        m.type === "item" && m.item.txHash === hash && m.item.status === "reorged"
      );
      const balanceAt = after.findIndex((m, i) => i > reorgedAt && m.type === "balances");
      const freshAt = after.findIndex((m) => m.type === "item" && m.item.txHash === fresh.txHash);
      ok(
        reorgAt < reorgedAt && reorgedAt < balanceAt && balanceAt < freshAt,
        `in order: ${
          after.map((m) => m.type === "item" ? `item:${m.item.status}` : m.type).join(", ")
        }`,
      );
      equal(
        BigInt((after[balanceAt] as BalancesMessage).balances[0].raw),
        before - ETH / 2n,
        "the balance at the common ancestor",
      );
      const status = await waitFor(async () => {
        const s = await (await app.request("/api/chain")).json();
        return s.reorgs === 1 ? s : null;
      }, { timeoutMs: 10_000, what: "/api/chain to count the reorg" });
      equal(status.chainId, 31337);
      equal(status.rpc, "connected");
      equal(status.lastReorg.depth, 2);
      equal(status.lastReorg.from, x);
      equal(status.finalized, status.head - 12);
      ok(status.lagMs >= 0);
    },
  );

  await t.step(
    "a head below our tip (anvil_rollback 2): the blocks above it are rolled back",
    async () => {
      const hash = await chain.send({ from: A4, to: W, value: ETH / 8n });
      await chain.mine();
      const included = await waitItem(
        app,
        cookie,
        W,
        (i) => i.txHash === hash && i.status === "included",
        "the transfer's inclusion",
      );
      await chain.mine();
      await waitHead(app, included.blockNumber! + 1);
      const reorgs = app.services.chain.status().reorgs;
      await chain.rollback(2);
      const gone = await waitItem(
        app,
        cookie,
        W,
        (i) => i.txHash === hash && i.status !== "included",
        "the rollback",
      );
      equal(gone.status, "reorged", "anvil forgets rolled-back transactions: not pending again");
      equal(gone.blockNumber, null);
      await waitFor(() => app.services.chain.status().reorgs === reorgs + 1, {
        timeoutMs: 10_000,
        what: "the reorg count",
      });
      equal(app.services.chain.status().lastReorg?.depth, 2);
      await chain.mine(2);
      await waitHead(app, included.blockNumber! + 1);
    },
  );

  await t.step(
    "a reorg deeper than the kept window: logged, reported in /api/chain, the window re-ingested",
    async () => {
      const hash = await chain.send({ from: A4, to: W, value: ETH / 16n });
      await chain.mine();
      const included = await waitItem(
        app,
        cookie,
        W,
        (i) => i.txHash === hash && i.status === "included",
        "the transfer's inclusion",
      );
      await chain.mine(5);
      const head = included.blockNumber! + 5;
      await waitHead(app, head);
      // 14 blocks replaced, with a kept window of 12; the new branch carries a transfer 11 blocks in.
      await chain.reorg(14, [[{ from: A5, to: W, value: ETH / 32n }, 11]]);
      const fresh = await waitItem(
        app,
        cookie,
        W,
        (i) => i.from === A5 && i.amount === "0.03125",
        "the new branch's transfer",
      );
      equal(fresh.blockNumber, head - 13 + 11);
      const reorged = await waitItem(
        app,
        cookie,
        W,
        (i) => i.txHash === hash && i.status === "reorged",
        "the old transfer to be reorged",
      );
      equal(reorged.blockNumber, null);
      const status = await waitFor(async () => {
        const s = await (await app.request("/api/chain")).json();
        return s.deepReorgs === 1 ? s : null;
      }, { timeoutMs: 10_000, what: "/api/chain to count the deep reorg" });
      equal(status.lastReorg.deep, true);
      match(app.output(), /"msg":"chain reorganization".*"deep":true/);
    },
  );

  await t.step(
    "the feed pages newest first with a cursor; nothing repeated across pages",
    async () => {
      const all = (await walletOf(app, cookie, W, "?limit=100")).activity.map((i) => i.id);
      const paged: string[] = [];
      let cursor: string | null = "";
      while (cursor !== null) {
        const page = await walletOf(app, cookie, W, `?limit=4${cursor ? `&cursor=${cursor}` : ""}`);
        ok(page.activity.length <= 4);
        paged.push(...page.activity.map((i) => i.id));
        cursor = page.next;
      }
      deepEqual(paged, all);
      ok(all.length > 10);
    },
  );

  await t.step("wallet:{address} is for users who watch it; chain:status is public", async () => {
    const bob = await signUp(app, "bob");
    const url = `${app.origin.replace("http", "ws")}/api/ws`;
    const ws = await openSocket(url, { headers: { cookie } });
    const other = await openSocket(url, { headers: { cookie: bob } });
    try {
      await ws.next((f) => f.type === "connected");
      ws.send({ type: "subscribe", id: "w", channel: `wallet:${W}` });
      const sub = await ws.next((f) => f.id === "w");
      equal(sub.type, "subscribed", JSON.stringify(sub));
      ws.send({ type: "subscribe", id: "c", channel: "chain:status" });
      const chainSub = await ws.next((f) => f.id === "c");
      equal((chainSub.data as { snapshot: { chainId: number } }).snapshot.chainId, 31337);
      ws.send({ type: "subscribe", id: "l", channel: `wallet:${W.toLowerCase()}` });
      const lower = await ws.next((f) => f.id === "l");
      equal(
        (lower.data as { code: string }).code,
        "unknown_channel",
        "channels use the checksummed address",
      );
      await other.next((f) => f.type === "connected");
      other.send({ type: "subscribe", id: "x", channel: `wallet:${W}` });
      const refused = await other.next((f) => f.id === "x");
      equal(refused.type, "error");
      equal((refused.data as { code: string }).code, "forbidden");
      match((refused.data as { message: string }).message, /watch the address first/);
      const res = await app.request(`/api/wallet/${W}`, { headers: { cookie: bob } });
      equal(res.status, 403);
      await res.body?.cancel();
    } finally {
      await ws.close();
      await other.close();
    }
  });
});

Deno.test({
  name:
    "[wallet] kill -9 while blocks are mined, restart on the same KV: every block once, no item lost or doubled",
  // The app runs as a child process; its KV file is read back after it stopped.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using anvil = await startAnvil();
    const chain = devChain(anvil.url);
    const dir = await Deno.makeTempDir();
    const env = {
      ...chainEnv(anvil.url),
      KV_PATH: `${dir}/kv.sqlite`,
      AUTH_SECRET: "x".repeat(40),
    };
    let app = await startApp({ env });
    const sent: string[] = [];
    try {
      const signup = await fetchWithin(`${app.origin}/api/accounts`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "kim", password: "violet-harbor-lantern" }),
      });
      equal(signup.status, 201);
      await signup.body?.cancel();
      const cookie = (signup.headers.get("set-cookie") ?? "").split(";")[0];
      const watched = await fetchWithin(`${app.origin}/api/wallet/watch`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie },
        body: JSON.stringify({ address: W }),
      });
      equal(watched.status, 201);
      await watched.body?.cancel();
      const mineSome = async (n: number) => {
        for (let i = 0; i < n; i++) {
          sent.push(await chain.send({ from: A0, to: W, value: BigInt(sent.length + 1) }));
          await chain.mine();
          await new Promise((resolve) => setTimeout(resolve, 40));
        }
      };
      await mineSome(12);
      await app.kill(); // SIGKILL: whatever it was doing, mid-round
      await mineSome(8);
      app = await startApp({ env });
      await mineSome(10);
      const head = await chain.rpc.blockNumber();
      const view = await waitFor(async () => {
        const res = await fetchWithin(`${app.origin}/api/wallet/${W}?limit=100`, {
          headers: { cookie },
        });
        const v = await res.json() as WalletView;
        return v.head === head &&
            v.activity.filter((i) => i.status === "confirmed").length >= sent.length - 2
          ? v
          : null;
      }, { timeoutMs: 30_000, what: `the restarted app to ingest up to block ${head}` });
      const ids = view.activity.map((i) => i.id);
      equal(new Set(ids).size, ids.length, "no item twice");
      deepEqual(
        view.activity.map((i) => i.txHash).sort(),
        [...sent].sort(),
        "one item per transfer, none missing",
      );
      for (const hash of sent) {
        const receipt = await chain.receipt(hash as `0x${string}`);
        const item = view.activity.find((i) => i.txHash === hash)!;
        equal(item.blockNumber, receipt.blockNumber, `${hash} in its block`);
        equal(item.blockHash, receipt.blockHash);
      }
    } finally {
      await app.stop();
    }
    const kv = await Deno.openKv(`${dir}/kv.sqlite`);
    try {
      const cursor = (await kv.get<ChainCursor>(chainCursorKey(31337))).value!;
      const head = await chain.rpc.blockNumber();
      equal(cursor.number, head);
      equal(cursor.ingested, head + 1, "each block 0..head ingested exactly once");
      const told = new Set<string>();
      for await (
        const e of kv.list<{ data: WalletMessage }>({ prefix: busHistoryPrefix(`wallet:${W}`) })
      ) {
        const m = e.value.data;
        if (m.type !== "item") continue;
        const key = `${m.item.txHash}:${m.item.status}:${m.item.confirmations}`;
        ok(!told.has(key), `announced once: ${key}`);
        told.add(key);
      }
      for (const hash of sent.slice(0, -3)) {
        ok([...told].some((k) => k.startsWith(`${hash}:confirmed:`)), `${hash} told confirmed`);
      }
    } finally {
      kv.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
