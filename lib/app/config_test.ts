import { equal, throws } from "node:assert/strict";
import { loadConfig } from "./config.ts";

function env(vars: Record<string, string>) {
  return { get: (name: string) => vars[name] };
}

Deno.test("[config] defaults", () => {
  const c = loadConfig(env({}));
  equal(c.port, 8000);
  equal(c.hostname, "0.0.0.0");
  equal(c.kvPath, "./data/realtime.kv");
  equal(c.marketTickMs, 250);
  equal(c.logLevel, "info");
  equal(Number.isInteger(c.marketSeed), true);
});

Deno.test("[config] reads overrides", () => {
  const c = loadConfig(
    env({ PORT: "0", KV_PATH: ":memory:", MARKET_SEED: "9", LOG_LEVEL: "DEBUG" }),
  );
  equal(c.port, 0);
  equal(c.kvPath, ":memory:");
  equal(c.marketSeed, 9);
  equal(c.logLevel, "debug");
});

Deno.test("[config] malformed values are refused with the variable named", () => {
  throws(
    () => loadConfig(env({ PORT: "eighty" })),
    /Cannot read PORT: expected an integer from 0 to 65535/,
  );
  throws(() => loadConfig(env({ PORT: "70000" })), /Cannot read PORT/);
  throws(() => loadConfig(env({ MARKET_TICK_MS: "1.5" })), /Cannot read MARKET_TICK_MS/);
  throws(() => loadConfig(env({ LOG_LEVEL: "loud" })), /Cannot read LOG_LEVEL/);
});
