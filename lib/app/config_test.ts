import { deepEqual, equal, throws } from "node:assert/strict";
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

Deno.test("[config] gateway limits: defaults, overrides and refusals", () => {
  const c = loadConfig(env({ WS_MAX_FRAME_BYTES: "1024", WS_PING_INTERVAL_MS: "5000" }));
  equal(c.limits.maxFrameBytes, 1024);
  equal(c.limits.pingIntervalMs, 5000);
  equal(c.limits.maxSubscriptions, 128);
  throws(() => loadConfig(env({ WS_MAX_SUBSCRIPTIONS: "0" })), /Cannot read WS_MAX_SUBSCRIPTIONS/);
  throws(() => loadConfig(env({ WS_MESSAGE_BURST: "lots" })), /Cannot read WS_MESSAGE_BURST/);
});

Deno.test("[config] auth: defaults", () => {
  const c = loadConfig(env({}));
  equal(c.authSecret, undefined);
  deepEqual(c.allowedOrigins, []);
  equal(c.tokenTtlSec, 900);
  equal(c.sessionTtlSec, 604_800);
  equal(c.demoPassword, undefined);
  equal(c.pbkdf2Iterations, 600_000);
  equal(c.signupsPerHourPerIp, 5);
});

Deno.test("[config] auth: overrides", () => {
  const c = loadConfig(env({
    AUTH_SECRET: "s".repeat(32),
    ALLOWED_ORIGINS: " https://App.example.com , http://localhost:3000/,",
    TOKEN_TTL_SEC: "60",
    SESSION_TTL_SEC: "3600",
    DEMO_PASSWORD: "demo-pass",
    PBKDF2_ITERATIONS: "1000",
    SIGNUPS_PER_HOUR_PER_IP: "50",
  }));
  equal(c.authSecret, "s".repeat(32));
  deepEqual(c.allowedOrigins, ["https://app.example.com", "http://localhost:3000"]);
  equal(c.tokenTtlSec, 60);
  equal(c.sessionTtlSec, 3600);
  equal(c.demoPassword, "demo-pass");
  equal(c.pbkdf2Iterations, 1000);
  equal(c.signupsPerHourPerIp, 50);
});

Deno.test("[config] auth: malformed values are refused, secrets are not echoed", () => {
  throws(() => loadConfig(env({ AUTH_SECRET: "too-short-secret" })), (err: Error) => {
    equal(err.message.includes("too-short-secret"), false);
    return /Cannot read AUTH_SECRET: expected at least 32 bytes/.test(err.message);
  });
  throws(() => loadConfig(env({ DEMO_PASSWORD: "shorty" })), (err: Error) => {
    equal(err.message.includes("shorty"), false);
    return /Cannot read DEMO_PASSWORD: expected at least 8 characters/.test(err.message);
  });
  throws(
    () => loadConfig(env({ ALLOWED_ORIGINS: "https://ok.example,https://bad.example/path" })),
    /Cannot read ALLOWED_ORIGINS: .*"https:\/\/bad.example\/path"/,
  );
  throws(() => loadConfig(env({ ALLOWED_ORIGINS: "null" })), /Cannot read ALLOWED_ORIGINS/);
  throws(() => loadConfig(env({ PBKDF2_ITERATIONS: "999" })), /Cannot read PBKDF2_ITERATIONS/);
  throws(() => loadConfig(env({ TOKEN_TTL_SEC: "0" })), /Cannot read TOKEN_TTL_SEC/);
  throws(() => loadConfig(env({ SESSION_TTL_SEC: "week" })), /Cannot read SESSION_TTL_SEC/);
  for (const bad of ["0", "-1", "2.5", "many"]) {
    throws(
      () => loadConfig(env({ SIGNUPS_PER_HOUR_PER_IP: bad })),
      /Cannot read SIGNUPS_PER_HOUR_PER_IP: expected an integer from 1 to 1000000/,
    );
  }
});

Deno.test("[config] KV_URL must be an http(s) URL", () => {
  equal(loadConfig(env({})).kvUrl, undefined);
  equal(
    loadConfig(env({ KV_URL: "https://api.deno.com/databases/x/connect" })).kvUrl,
    "https://api.deno.com/databases/x/connect",
  );
  throws(() => loadConfig(env({ KV_URL: "not a url" })), /Cannot read KV_URL/);
  throws(() => loadConfig(env({ KV_URL: "file:///tmp/kv" })), /Cannot read KV_URL/);
});

Deno.test("[config] on Deno Deploy the default KV is the managed one", () => {
  equal(loadConfig(env({ DENO_DEPLOYMENT_ID: "abc" })).kvPath, "");
  equal(loadConfig(env({ DENO_DEPLOYMENT_ID: "abc", KV_PATH: "x.kv" })).kvPath, "x.kv");
});

Deno.test("[config] kvRemote: a KV_URL or Deno Deploy's managed KV", () => {
  equal(loadConfig(env({})).kvRemote, false);
  equal(loadConfig(env({ KV_URL: "https://kv.example/connect" })).kvRemote, true);
  equal(loadConfig(env({ DENO_DEPLOYMENT_ID: "d" })).kvRemote, true);
  equal(loadConfig(env({ DENO_DEPLOYMENT_ID: "d", KV_PATH: "/tmp/kv" })).kvRemote, false);
});

Deno.test("[config] connection guard: defaults, overrides and refusals", () => {
  const d = loadConfig(env({}));
  equal(d.netGuard, true);
  equal(d.net.maxSockets, 0);
  equal(d.net.maxPendingPerIp, 64);
  equal(d.net.headerTimeoutMs, 10_000);
  equal(d.net.closeTimeoutMs, 2_000);
  const c = loadConfig(env({
    NET_GUARD: "off",
    NET_MAX_SOCKETS: "500",
    NET_HEADER_TIMEOUT_MS: "300",
    WS_FRAME_TIMEOUT_MS: "250",
    WS_PARTIAL_FRAME_BYTES: "1048576",
  }));
  equal(c.netGuard, false);
  equal(c.net.maxSockets, 500);
  equal(c.net.headerTimeoutMs, 300);
  equal(c.net.frameTimeoutMs, 250);
  equal(c.net.partialFrameBudgetBytes, 1_048_576);
  throws(
    () => loadConfig(env({ NET_GUARD: "maybe" })),
    /Cannot read NET_GUARD: expected on or off/,
  );
  throws(
    () => loadConfig(env({ NET_HEADER_TIMEOUT_MS: "5" })),
    /Cannot read NET_HEADER_TIMEOUT_MS/,
  );
  throws(
    () => loadConfig(env({ NET_MAX_PENDING_PER_IP: "0" })),
    /Cannot read NET_MAX_PENDING_PER_IP/,
  );
});

Deno.test("[config] prices: defaults", () => {
  const c = loadConfig(env({}));
  deepEqual(c.prices.sources, ["simulated"]);
  equal(c.prices.symbols.length, 10);
  equal(c.prices.symbols[0], "BTC-USD");
  equal(c.prices.urls.kraken.startsWith("wss://"), true);
  equal(c.priceDeviationPct, 0.01);
  equal(c.priceHeartbeatMs, 1_000);
  equal(c.priceMaxAgeMs, 10_000);
});

Deno.test("[config] prices: overrides", () => {
  const c = loadConfig(env({
    PRICE_SOURCES: "coinbase, Kraken,simulated",
    PRICE_SYMBOLS: "btc-usd,ETH-USD,LTC-USD",
    COINBASE_WS_URL: "ws://127.0.0.1:9001",
    BINANCE_WS_URL: "wss://example.test/stream",
    KRAKEN_WS_URL: "ws://localhost:9003/v2",
    PRICE_DEVIATION_PCT: "0.5",
    PRICE_HEARTBEAT_MS: "250",
    PRICE_MAX_AGE_MS: "3000",
  }));
  deepEqual(c.prices.sources, ["coinbase", "kraken", "simulated"]);
  deepEqual(c.prices.symbols, ["BTC-USD", "ETH-USD", "LTC-USD"]);
  equal(c.prices.urls.coinbase, "ws://127.0.0.1:9001");
  equal(c.prices.urls.binance, "wss://example.test/stream");
  equal(c.prices.urls.kraken, "ws://localhost:9003/v2");
  equal(c.priceDeviationPct, 0.5);
  equal(c.priceHeartbeatMs, 250);
  equal(c.priceMaxAgeMs, 3_000);
  equal(loadConfig(env({ PRICE_DEVIATION_PCT: "0" })).priceDeviationPct, 0);
});

Deno.test("[config] prices: bad values stop the start with the variable named", () => {
  throws(
    () => loadConfig(env({ PRICE_SOURCES: "coinbase,bitstamp" })),
    /Cannot read PRICE_SOURCES/,
  );
  throws(
    () => loadConfig(env({ PRICE_SYMBOLS: "BTC-USD,FOO-USD" })),
    /Cannot read PRICE_SYMBOLS: .*FOO-USD/,
  );
  throws(() => loadConfig(env({ PRICE_SYMBOLS: "BTC-EUR" })), /Cannot read PRICE_SYMBOLS/);
  throws(
    () => loadConfig(env({ COINBASE_WS_URL: "https://x.test" })),
    /Cannot read COINBASE_WS_URL/,
  );
  throws(() => loadConfig(env({ BINANCE_WS_URL: "not a url" })), /Cannot read BINANCE_WS_URL/);
  throws(() => loadConfig(env({ KRAKEN_WS_URL: "ftp://x.test" })), /Cannot read KRAKEN_WS_URL/);
  throws(() => loadConfig(env({ PRICE_DEVIATION_PCT: "-1" })), /Cannot read PRICE_DEVIATION_PCT/);
  throws(() => loadConfig(env({ PRICE_DEVIATION_PCT: "1e3" })), /Cannot read PRICE_DEVIATION_PCT/);
  throws(() => loadConfig(env({ PRICE_DEVIATION_PCT: "lots" })), /Cannot read PRICE_DEVIATION_PCT/);
  throws(() => loadConfig(env({ PRICE_HEARTBEAT_MS: "10" })), /Cannot read PRICE_HEARTBEAT_MS/);
  throws(() => loadConfig(env({ PRICE_MAX_AGE_MS: "1.5" })), /Cannot read PRICE_MAX_AGE_MS/);
});

Deno.test("[config] notifications: backend and recovery time, bad values named", () => {
  const c = loadConfig(env({}));
  equal(c.notifyBackend, "auto");
  equal(c.notifyRecoveryMs, 5_000);
  const set = loadConfig(env({ NOTIFY_BACKEND: "outbox", NOTIFY_RECOVERY_MS: "1000" }));
  equal(set.notifyBackend, "outbox");
  equal(set.notifyRecoveryMs, 1_000);
  throws(() => loadConfig(env({ NOTIFY_BACKEND: "redis" })), /Cannot read NOTIFY_BACKEND/);
  throws(() => loadConfig(env({ NOTIFY_RECOVERY_MS: "50" })), /Cannot read NOTIFY_RECOVERY_MS/);
});

Deno.test("[config] cluster: CLUSTER_TTL_MS, bounded", () => {
  equal(loadConfig(env({})).clusterTtlMs, 10_000);
  equal(loadConfig(env({ CLUSTER_TTL_MS: "2000" })).clusterTtlMs, 2_000);
  throws(() => loadConfig(env({ CLUSTER_TTL_MS: "999" })), /Cannot read CLUSTER_TTL_MS/);
  throws(() => loadConfig(env({ CLUSTER_TTL_MS: "soon" })), /Cannot read CLUSTER_TTL_MS/);
});
