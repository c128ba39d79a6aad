import { deepStrictEqual, equal } from "node:assert/strict";
import { mergeIntoBoard, readBoard, watchBoard, writeQuotes } from "./store.ts";
import type { Quote } from "./types.ts";
import { deadline, waitFor } from "../../tests/_deadline.ts";

function quote(symbol: string, price: number, ts: number): Quote {
  return {
    symbol,
    price,
    bid: price - 1,
    ask: price + 1,
    open24h: price,
    change24hPct: 0,
    volume24h: 1,
    sources: ["sim"],
    ts,
  };
}

Deno.test("[prices] the board merges writes and counts them", async () => {
  using kv = await Deno.openKv(":memory:");
  equal(await readBoard(kv), null);
  await writeQuotes(kv, [quote("A", 1, 10), quote("B", 2, 10)], 10);
  const board = await writeQuotes(kv, [quote("A", 3, 20)], 20);
  equal(board.seq, 2);
  equal(board.ts, 20);
  deepStrictEqual(Object.keys(board.quotes).sort(), ["A", "B"]);
  equal(board.quotes.A.price, 3);
  deepStrictEqual(await readBoard(kv), board);
});

Deno.test("[prices] watchBoard yields the latest board and stops on abort", async () => {
  using kv = await Deno.openKv(":memory:");
  const stop = new AbortController();
  const seen: number[] = [];
  const done = (async () => {
    for await (const board of watchBoard(kv, stop.signal)) {
      seen.push(board.seq);
      if (board.seq >= 3) stop.abort();
    }
  })();
  for (let i = 1; i <= 3; i++) {
    await writeQuotes(kv, [quote("A", i, i)], i);
    // Write the next board only once the watcher has seen this one.
    await waitFor(() => seen.includes(i), { timeoutMs: 5_000, what: `board ${i} to be watched` });
  }
  await deadline(done, 5_000, "the watch to stop after the abort");
  deepStrictEqual(seen, [1, 2, 3], "every board, in order, then the watch stops");
});

Deno.test("[store] bus messages of price channels keep a board current; others do not", () => {
  const q = (price: number, ts: number) => ({
    symbol: "BTC-USD",
    price,
    bid: price,
    ask: price,
    open24h: price,
    change24hPct: 0,
    volume24h: 1,
    sources: ["a"],
    ts,
  });
  let board = mergeIntoBoard(null, "prices:BTC-USD", q(100, 10), 10);
  equal(board?.quotes["BTC-USD"].price, 100);
  board = mergeIntoBoard(board, "prices:BTC-USD", q(99, 5), 5);
  equal(board?.quotes["BTC-USD"].price, 100, "an older quote is ignored");
  board = mergeIntoBoard(board, "prices:BTC-USD", q(101, 20), 20);
  equal(board?.quotes["BTC-USD"].price, 101);
  equal(mergeIntoBoard(board, "prices:ETH-USD", q(1, 30), 30), board, "symbol mismatch ignored");
  equal(mergeIntoBoard(board, "presence:lobby", { text: "hi" }, 30), board);
  const candle = { t: 0, o: 1, h: 2, l: 0.5, c: 1.5, v: 3, n: 4 };
  board = mergeIntoBoard(board, "candles:BTC-USD", candle, 40);
  equal(board?.candles?.["BTC-USD"].c, 1.5);
  equal(board?.seq, 0, "seq is kept: the next board from KV replaces it");
});
