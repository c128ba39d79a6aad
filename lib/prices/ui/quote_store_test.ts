import { deepEqual, equal } from "node:assert/strict";
import { effect } from "@preact/signals";
import type { Quote } from "../types.ts";
import { createQuoteStore } from "./quote_store.ts";

function quote(symbol: string, price: number, ts: number): Quote {
  return {
    symbol,
    price,
    bid: price - 1,
    ask: price + 1,
    open24h: 100,
    change24hPct: 1,
    volume24h: 10,
    sources: ["simulated"],
    ts,
  };
}

/** A frame scheduler run by hand. */
function manualFrames() {
  const queue: (() => void)[] = [];
  return {
    schedule: (cb: () => void) => void queue.push(cb),
    run() {
      const due = queue.splice(0);
      for (const cb of due) cb();
      return due.length;
    },
    get pending() {
      return queue.length;
    },
  };
}

Deno.test("[prices/ui] quote store: a burst of ticks is one write per symbol per frame", () => {
  const frames = manualFrames();
  const store = createQuoteStore(
    ["BTC-USD", "ETH-USD"],
    { "BTC-USD": quote("BTC-USD", 1, 1) },
    frames.schedule,
  );
  const btc = store.quote("BTC-USD")!;
  const eth = store.quote("ETH-USD")!;
  const seen: number[] = [];
  let ethWrites = 0;
  const stopBtc = effect(() => void seen.push(btc.value?.price ?? -1));
  const stopEth = effect(() => {
    eth.value;
    ethWrites++;
  });
  for (let i = 2; i <= 6; i++) store.push(quote("BTC-USD", i, i));
  equal(btc.value?.price, 1, "nothing changes before the frame");
  equal(frames.pending, 1, "one frame is scheduled for the whole burst");
  equal(frames.run(), 1);
  deepEqual(seen, [1, 6], "the signal was written once, with the newest quote");
  equal(ethWrites, 1, "the other symbol's signal was not touched");
  equal(store.frames.value, 1);
  frames.run();
  equal(store.frames.value, 1, "an empty frame paints nothing");
  stopBtc();
  stopEth();
});

Deno.test("[prices/ui] quote store: old, unknown and malformed quotes are dropped and counted", () => {
  const frames = manualFrames();
  const store = createQuoteStore(
    ["BTC-USD"],
    { "BTC-USD": quote("BTC-USD", 10, 100) },
    frames.schedule,
  );
  store.push(quote("BTC-USD", 9, 99)); // older than what is shown
  store.push(quote("DOGE-USD", 1, 200)); // not followed
  store.push({ symbol: "BTC-USD", price: "1" }); // malformed
  store.push(null);
  store.push({ ...quote("BTC-USD", 11, 101), price: Number.NaN });
  equal(store.dropped.value, 5);
  equal(frames.pending, 0, "nothing to paint");
  store.push(quote("BTC-USD", 12, 102));
  store.push(quote("BTC-USD", 11.5, 101)); // older than the pending one
  equal(store.dropped.value, 6);
  frames.run();
  equal(store.quote("BTC-USD")!.value?.price, 12);
  equal(store.quote("XRP-USD"), undefined);
});
