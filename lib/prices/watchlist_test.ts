import { deepEqual, equal, match } from "node:assert/strict";
import { watchlistKey } from "../kv/keys.ts";
import {
  deleteWatchlist,
  MAX_WATCHLIST,
  parseWatchlist,
  readWatchlist,
  writeWatchlist,
} from "./watchlist.ts";

function refused(result: ReturnType<typeof parseWatchlist>): string {
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.symbols)}`);
  return result.message;
}

Deno.test("[prices] watchlist: validated, bounded, de-duplicated", () => {
  deepEqual(parseWatchlist({ symbols: ["BTC-USD", "ETH-USD", "BTC-USD"] }), {
    ok: true,
    symbols: ["BTC-USD", "ETH-USD"],
  });
  deepEqual(parseWatchlist(["SOL-USD"]), { ok: true, symbols: ["SOL-USD"] });
  deepEqual(parseWatchlist({ symbols: [] }), { ok: true, symbols: [] });
  match(refused(parseWatchlist({})), /Expected a JSON object/);
  match(refused(parseWatchlist(null)), /Expected a JSON object/);
  match(refused(parseWatchlist({ symbols: "BTC-USD" })), /Expected a JSON object/);
  match(refused(parseWatchlist({ symbols: ["btc-usd"] })), /Not a pair: "btc-usd"/);
  match(refused(parseWatchlist({ symbols: [{ $ne: 1 }] })), /Not a pair: object/);
  match(refused(parseWatchlist({ symbols: ["X".repeat(5000)] })), /Not a pair: "X{20}"/);
  const many = Array.from({ length: MAX_WATCHLIST + 1 }, (_, i) => `A${i}-USD`);
  match(refused(parseWatchlist({ symbols: many })), /at most 50 pairs, got 51/);
  deepEqual(parseWatchlist({ symbols: many.slice(1) }).ok, true, "50 is allowed");
  const known = (s: string) => s !== "ZZZ-USD";
  match(
    refused(parseWatchlist({ symbols: ["BTC-USD", "ZZZ-USD"] }, known)),
    /Unknown pair "ZZZ-USD"/,
  );
});

Deno.test("[prices] watchlist: kept per user in KV", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    deepEqual(await readWatchlist(kv, "u1"), []);
    await writeWatchlist(kv, "u1", ["ETH-USD", "BTC-USD"], () => 5);
    deepEqual(await readWatchlist(kv, "u1"), ["ETH-USD", "BTC-USD"]);
    deepEqual(await readWatchlist(kv, "u2"), [], "another user's list is their own");
    deepEqual((await kv.get(watchlistKey("u1"))).value, {
      symbols: ["ETH-USD", "BTC-USD"],
      updatedAt: 5,
    });
    await kv.set(watchlistKey("u3"), { symbols: ["<script>"] });
    deepEqual(await readWatchlist(kv, "u3"), [], "a stored value that is not valid reads as empty");
    await deleteWatchlist(kv, "u1");
    equal((await kv.get(watchlistKey("u1"))).value, null);
  } finally {
    kv.close();
  }
});
