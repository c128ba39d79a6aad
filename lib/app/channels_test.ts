import { deepStrictEqual, equal } from "node:assert/strict";
import { resolveChannel } from "../gateway/namespaces.ts";
import { appNamespaces } from "./channels.ts";
import type { PriceBoard } from "../prices/types.ts";

const candle = { t: 0, o: 1, h: 2, l: 0.5, c: 1.5, v: 3, n: 4 };
const board: PriceBoard = {
  seq: 1,
  ts: 0,
  quotes: {},
  candles: { "BTC-USD": candle, "BTC-USD@1h": { ...candle, n: 40 } },
  overview: {
    ts: 0,
    volume24hUsd: 1,
    gainers: [],
    losers: [],
    advancers: 0,
    decliners: 0,
    volumeShare: [],
    venues: [],
  },
};
const namespaces = appNamespaces({ symbols: new Set(["BTC-USD"]), board: () => board });

function resolve(channel: string) {
  const r = resolveChannel(namespaces, channel);
  return "error" in r ? r.error : r;
}

Deno.test("[channels] candles and market: public, server-published, latest value, with snapshots", () => {
  for (const channel of ["candles:BTC-USD", "candles:BTC-USD@1h", "market:overview"]) {
    const r = resolve(channel);
    if (typeof r === "string") throw new Error(r);
    equal(r.policy.subscribe, "public");
    equal(r.policy.publish, "none");
    equal(r.policy.mode, "latest");
    equal(r.policy.history.size, 1);
  }
  const c = resolve("candles:BTC-USD");
  const h = resolve("candles:BTC-USD@1h");
  const m = resolve("market:overview");
  if (typeof c === "string" || typeof h === "string" || typeof m === "string") throw new Error();
  deepStrictEqual(c.policy.snapshot!(c.name), candle);
  equal((h.policy.snapshot!(h.name) as { n: number }).n, 40);
  equal((m.policy.snapshot!(m.name) as { volume24hUsd: number }).volume24hUsd, 1);
});

Deno.test("[channels] unknown symbols, intervals and market channels are refused", () => {
  equal(resolve("candles:ETH-USD"), 'Cannot use candles:ETH-USD: unknown symbol "ETH-USD"');
  equal(
    resolve("candles:BTC-USD@5m"),
    "Cannot use candles:BTC-USD@5m: the interval is @1h or none (1 m)",
  );
  equal(
    resolve("market:movers"),
    "Cannot use market:movers: the only market channel is market:overview",
  );
});
