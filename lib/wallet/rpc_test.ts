import { deepEqual, equal, rejects } from "node:assert/strict";
import { z } from "zod";
import { createChainRpc, RpcFailure } from "./rpc.ts";

/** A node that answers from `answer(body)`, as JSON. */
function node(answer: (body: unknown) => unknown) {
  return createChainRpc({
    url: "http://node.invalid/",
    timeoutMs: 1_000,
    maxResponseBytes: 4_096,
    fetchFn: (_input, init) =>
      Promise.resolve(Response.json(answer(JSON.parse(String(init?.body))))),
  });
}

Deno.test("[rpc] answers validated; JSON-RPC errors keep code and data; garbage is invalid", async () => {
  const rpc = node((body) => {
    const { id, method } = body as { id: number; method: string };
    if (method === "eth_chainId") return { jsonrpc: "2.0", id, result: "0x7a69" };
    if (method === "eth_blockNumber") return { jsonrpc: "2.0", id, result: "0x1fffffffffffffff" };
    if (method === "eth_call") {
      return {
        jsonrpc: "2.0",
        id,
        error: { code: 3, message: "execution reverted", data: "0x08c379a0" },
      };
    }
    if (method === "eth_getBalance") return { jsonrpc: "2.0", id, result: { nope: 1 } };
    return { jsonrpc: "2.0", id };
  });
  equal(await rpc.chainId(), 31337);
  await rejects(
    rpc.blockNumber(),
    (e: RpcFailure) => e.kind === "invalid" && /beyond 2\^53/.test(e.message),
  );
  await rejects(
    rpc.call({ to: `0x${"1".repeat(40)}`, data: "0x" }, "latest"),
    (e: RpcFailure) => e.kind === "rpc" && e.code === 3 && e.data === "0x08c379a0",
  );
  await rejects(
    rpc.balance(`0x${"1".repeat(40)}`, "latest"),
    (e: RpcFailure) => e.kind === "invalid",
  );
  await rejects(
    rpc.nonce(`0x${"1".repeat(40)}`, "latest"),
    (e: RpcFailure) => e.kind === "invalid" && /no result/.test(e.message),
  );
});

Deno.test("[rpc] batches are matched by id, whatever the order; one bad answer fails alone", async () => {
  const rpc = node((body) =>
    (body as { id: number; params: [string] }[]).reverse().map(({ id, params }) =>
      params[0] === "0x2"
        ? { jsonrpc: "2.0", id, result: "zz" }
        : { jsonrpc: "2.0", id, result: params[0] }
    )
  );
  const out = await rpc.batch(
    ["0x1", "0x2", "0x3"].map((p) => ({ method: "echo", params: [p] })),
    z.string().regex(/^0x/),
  );
  equal(out[0], "0x1");
  equal(out[1] instanceof RpcFailure && out[1].kind, "invalid");
  equal(out[2], "0x3");
});

Deno.test("[rpc] a body over the bound is a transport failure, never parsed", async () => {
  const rpc = node((body) => ({
    jsonrpc: "2.0",
    id: (body as { id: number }).id,
    result: "0x" + "0".repeat(10_000),
  }));
  await rejects(rpc.chainId(), (e: RpcFailure) => e.kind === "transport");
});

Deno.test("[rpc] txpool_content flattened; a malformed transaction refuses the whole answer", async () => {
  const tx = {
    hash: `0x${"a".repeat(64)}`,
    from: `0x${"B".repeat(40)}`,
    to: null,
    nonce: "0x1",
    value: "0x0",
    input: "0x",
    blockHash: null,
    blockNumber: null,
  };
  const ok = node((b) => ({
    jsonrpc: "2.0",
    id: (b as { id: number }).id,
    result: { pending: { a: { "1": tx } }, queued: {} },
  }));
  deepEqual((await ok.txpool()).map((t) => [t.from, t.nonce, t.to]), [[
    `0x${"b".repeat(40)}`,
    1,
    null,
  ]]);
  const bad = node((b) => ({
    jsonrpc: "2.0",
    id: (b as { id: number }).id,
    result: { pending: { a: { "1": { ...tx, nonce: "one" } } } },
  }));
  await rejects(bad.txpool(), (e: RpcFailure) => e.kind === "invalid");
});
