import { deepEqual, equal, throws } from "node:assert/strict";
import { parseChainConfig } from "./config.ts";

const env = (vars: Record<string, string>) => ({ get: (name: string) => vars[name] });

Deno.test("[chain config] defaults: on, no node, per-chain depths, polling each second", () => {
  const c = parseChainConfig(env({}));
  deepEqual(
    { ...c },
    {
      enabled: true,
      rpcUrl: null,
      wsUrl: null,
      confirmations: null,
      finality: null,
      pollMs: 1_000,
      rpcTimeoutMs: 8_000,
      startBlock: "latest",
      mempool: "auto",
      nativeSymbol: "ETH",
      demoAddress: null,
      embedded: false,
    },
  );
  const set = parseChainConfig(env({
    CHAIN: "OFF",
    CHAIN_RPC_URL: "https://node.example/v2/key",
    CHAIN_WS_URL: "wss://node.example/ws",
    CHAIN_CONFIRMATIONS: "6",
    CHAIN_FINALITY: "32",
    CHAIN_START_BLOCK: "100",
    CHAIN_MEMPOOL: "pending",
    CHAIN_DEMO_ADDRESS: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
  }));
  equal(set.enabled, false);
  equal(set.confirmations, 6);
  equal(set.finality, 32);
  equal(set.startBlock, 100);
  equal(set.mempool, "pending");
  equal(set.demoAddress, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
});

Deno.test("[chain config] errors name the variable and never echo a URL", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ CHAIN: "maybe" }, /^Cannot read CHAIN: expected one of on, off/],
    [
      { CHAIN_RPC_URL: "ftp://x/secret" },
      /^Cannot read CHAIN_RPC_URL: expected a http or https URL, got a ftp URL$/,
    ],
    [{ CHAIN_RPC_URL: "not a url secret" }, /^Cannot read CHAIN_RPC_URL: .*not a URL\)$/],
    [{ CHAIN_WS_URL: "http://x" }, /^Cannot read CHAIN_WS_URL: expected a ws or wss URL/],
    [
      { CHAIN_CONFIRMATIONS: "0" },
      /^Cannot read CHAIN_CONFIRMATIONS: expected an integer from 1 to 1000/,
    ],
    [{ CHAIN_CONFIRMATIONS: "1e3" }, /^Cannot read CHAIN_CONFIRMATIONS/],
    [
      { CHAIN_CONFIRMATIONS: "12", CHAIN_FINALITY: "6" },
      /^Cannot read CHAIN_FINALITY: expected at least CHAIN_CONFIRMATIONS \(12\)/,
    ],
    [{ CHAIN_POLL_MS: "10" }, /^Cannot read CHAIN_POLL_MS/],
    [{ CHAIN_START_BLOCK: "-1" }, /^Cannot read CHAIN_START_BLOCK/],
    [{ CHAIN_MEMPOOL: "ws" }, /^Cannot read CHAIN_MEMPOOL/],
    [{ CHAIN_DEMO_ADDRESS: "0x123" }, /^Cannot read CHAIN_DEMO_ADDRESS: Not an address/],
    [{ CHAIN_NATIVE_SYMBOL: "eth!" }, /^Cannot read CHAIN_NATIVE_SYMBOL/],
  ];
  for (const [vars, message] of cases) {
    throws(() => parseChainConfig(env(vars)), (err: Error) => {
      equal(err.message.includes("secret"), false, err.message);
      return message.test(err.message);
    }, JSON.stringify(vars));
  }
});
