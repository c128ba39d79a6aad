/**
 * A node that goes down, answers slowly, answers garbage or errors: the chain engine (in
 * process, on a real anvil behind a switchable faulty `fetch`) reports `reconnecting`
 * with a redacted error, backs off, and once the node is back ingests what it missed —
 * every block once, every transfer once.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { chainCursorKey, walletItemPrefix } from "../lib/kv/keys.ts";
import { startAnvil } from "../lib/wallet/anvil.ts";
import { DEV_ACCOUNTS, devChain } from "../lib/wallet/dev_chain.ts";
import { type ChainPublication, runChainEngine } from "../lib/wallet/engine.ts";
import { createChainRpc } from "../lib/wallet/rpc.ts";
import type { ChainCursor } from "../lib/wallet/store.ts";
import type { ChainStatus, WalletMessage } from "../lib/wallet/types.ts";
import { addWatched } from "../lib/wallet/watch.ts";
import { waitFor } from "./_deadline.ts";

const [A0, , , , , , W] = DEV_ACCOUNTS;

type Mode = "ok" | "down" | "slow" | "garbage" | "shape" | "http500";

Deno.test("[wallet] node down, slow, garbage, erroring: reconnecting, backoff, nothing lost or doubled", async (t) => {
  await using anvil = await startAnvil();
  const chain = devChain(anvil.url);
  using kv = await Deno.openKv(":memory:");
  await addWatched(kv, "u1", W, "");
  let mode: Mode = "ok";
  const slow: Promise<unknown>[] = [];
  const faulty = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    switch (mode) {
      case "down":
        throw new TypeError("error sending request: connection refused");
      case "slow": {
        const wait = new Promise((resolve) => setTimeout(resolve, 600));
        slow.push(wait);
        await wait;
        return fetch(input, init);
      }
      case "garbage":
        return new Response('{"jsonrpc":"2.0","id":1,"result":', {
          headers: { "content-type": "application/json" },
        });
      case "shape":
        return Response.json({ jsonrpc: "2.0", id: 1, result: { number: "0xzz", hash: 42 } });
      case "http500":
        return new Response("upstream exploded at http://secret-node.example/key123", {
          status: 500,
        });
      default:
        return fetch(input, init);
    }
  };
  const statuses: ChainStatus[] = [];
  const published: ChainPublication[] = [];
  const stop = new AbortController();
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  const engine = runChainEngine({
    kv,
    holder: "h1",
    signal: stop.signal,
    settings: {
      rpcUrl: anvil.url,
      wsUrl: null,
      pollMs: 50,
      rpcTimeoutMs: 300,
      confirmations: 2,
      finality: 6,
      startBlock: 0,
      mempool: "off",
    },
    rpc: createChainRpc({ url: anvil.url, timeoutMs: 300, fetchFn: faulty }),
    log,
    publish: (messages) => {
      published.push(...messages);
      return Promise.resolve();
    },
    onStatus: (s) => statuses.push(s),
  });
  const sent: string[] = [];
  const mineTransfers = async (n: number) => {
    for (let i = 0; i < n; i++) {
      sent.push(await chain.send({ from: A0, to: W, value: BigInt(sent.length + 1) }));
      await chain.mine();
    }
  };
  const caughtUp = async (what: string) => {
    const head = await chain.rpc.blockNumber();
    await waitFor(() => statuses.at(-1)?.rpc === "connected" && statuses.at(-1)?.head === head, {
      timeoutMs: 40_000,
      what,
      detail: () => JSON.stringify(statuses.at(-1)),
    });
  };
  try {
    await mineTransfers(3);
    await caughtUp("the first blocks");
    for (const fault of ["down", "slow", "garbage", "shape", "http500"] as const) {
      await t.step(`${fault}: reconnecting, then caught up`, async () => {
        const mark = statuses.length;
        mode = fault;
        await mineTransfers(2);
        const seen = await waitFor(
          () => statuses.slice(mark).find((s) => s.rpc === "reconnecting"),
          {
            timeoutMs: 10_000,
            what: `the status to say reconnecting (${fault})`,
          },
        );
        ok(seen.error, "the error is told");
        ok(
          !/secret-node|key123|127\.0\.0\.1/.test(seen.error!),
          `no URL in the error: ${seen.error}`,
        );
        mode = "ok";
        await caughtUp(`recovery after ${fault}`);
      });
    }
    await Promise.all(slow);
    const cursor = (await kv.get<ChainCursor>(chainCursorKey(31337))).value!;
    const head = await chain.rpc.blockNumber();
    equal(cursor.ingested, head + 1, "every block once");
    const included = new Map<string, number>();
    for (const p of published) {
      const m = p.data as WalletMessage;
      if (m.type === "item" && m.item.status === "included" && m.item.confirmations === 1) {
        included.set(m.item.txHash, (included.get(m.item.txHash) ?? 0) + 1);
      }
    }
    const announcedOnce = [...included.values()].every((n) => n === 1);
    ok(announcedOnce, "no inclusion announced twice");
    const keys = published.filter((p) => p.key).map((p) => p.key);
    equal(new Set(keys).size, keys.length, "each outbox message published under its own key");
    deepEqual(
      [
        ...new Set(published.flatMap((p) => {
          const m = p.data as WalletMessage;
          return m.type === "item" ? [m.item.txHash] : [];
        })),
      ].sort(),
      [...sent].sort(),
      "every transfer announced",
    );
  } finally {
    stop.abort();
    await engine;
  }
});

Deno.test("[wallet] CHAIN_WS_URL: a new head wakes the listener long before its next poll", async () => {
  await using anvil = await startAnvil();
  const chain = devChain(anvil.url);
  using kv = await Deno.openKv(":memory:");
  const stop = new AbortController();
  let head = -1;
  const engine = runChainEngine({
    kv,
    holder: "h1",
    signal: stop.signal,
    settings: {
      rpcUrl: anvil.url,
      wsUrl: anvil.url.replace("http", "ws"),
      pollMs: 60_000,
      rpcTimeoutMs: 2_000,
      confirmations: 2,
      finality: 6,
      startBlock: 0,
      mempool: "off",
    },
    log: { debug() {}, info() {}, warn() {}, error() {} },
    publish: () => Promise.resolve(),
    onStatus: (s) => head = s.head ?? -1,
  });
  try {
    await waitFor(() => head === 0, { timeoutMs: 10_000, what: "the first round" });
    // Let the subscription settle, then mine: only a wake-up can ingest it within the wait.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await chain.mine();
    await waitFor(() => head === 1, {
      timeoutMs: 10_000,
      what: "block 1 ingested on a WebSocket wake-up",
    });
  } finally {
    stop.abort();
    await engine;
  }
});

Deno.test("[wallet] a new chain under the same chain id (the embedded anvil restarted): the old one's state is discarded", async () => {
  using kv = await Deno.openKv(":memory:");
  await addWatched(kv, "u1", W, "");
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  const settings = {
    wsUrl: null,
    pollMs: 50,
    rpcTimeoutMs: 2_000,
    confirmations: 2,
    finality: 6,
    startBlock: 0 as const,
    mempool: "off" as const,
  };
  const follow = async (url: string, until: (head: number) => boolean, what: string) => {
    const stop = new AbortController();
    let head = -1;
    const engine = runChainEngine({
      kv,
      holder: "h1",
      signal: stop.signal,
      settings: { ...settings, rpcUrl: url },
      log,
      publish: () => Promise.resolve(),
      onStatus: (s) => head = s.head ?? -1,
    });
    try {
      await waitFor(() => until(head), { timeoutMs: 15_000, what });
    } finally {
      stop.abort();
      await engine;
    }
  };
  const itemsOf = async () => {
    const out: string[] = [];
    for await (const e of kv.list<{ txHash: string }>({ prefix: walletItemPrefix(31337, W) })) {
      out.push(e.value.txHash);
    }
    return out;
  };
  {
    await using first = await startAnvil();
    const chain = devChain(first.url);
    for (let i = 0; i < 5; i++) {
      await chain.send({ from: A0, to: W, value: 1n });
      await chain.mine();
    }
    await follow(first.url, (h) => h === 5, "the first chain ingested");
    equal((await itemsOf()).length, 5);
  }
  // Another genesis time: another genesis hash (two anvils started within the same second
  // share one, and the change would be a reorg instead).
  await using second = await startAnvil({ args: ["--timestamp", "1700000000"] });
  const chain = devChain(second.url);
  const hash = await chain.send({ from: A0, to: W, value: 2n });
  await chain.mine();
  await follow(second.url, (h) => h === 1, "the second chain ingested from its block 0");
  deepEqual(await itemsOf(), [hash], "only the new chain's activity");
  const cursor = (await kv.get<ChainCursor>(chainCursorKey(31337))).value!;
  equal(cursor.ingested, 2);
});
