import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { leaseHolder } from "../kv/lease.ts";
import { deadline, waitFor } from "../../tests/_deadline.ts";
import { type EngineMessage, runPriceEngine } from "./engine.ts";
import { MARKET_LEASE } from "./producer.ts";
import { createSimulatedVenues } from "./sim_venues.ts";
import { readBoard } from "./store.ts";
import { readCandles } from "./candles.ts";

const SYMBOLS = ["BTC-USD", "ETH-USD"];

Deno.test("[engine] the lease holder runs the feeds, writes the board and publishes every channel; a successor takes over", async () => {
  using kv = await Deno.openKv(":memory:");
  const published = new Map<string, EngineMessage[]>();
  const running = new Map<string, number>();
  const start = (holder: string, signal: AbortSignal) =>
    runPriceEngine({
      kv,
      holder,
      signal,
      symbols: SYMBOLS,
      intervalMs: 20,
      leaseTtlMs: 2_000,
      candleWriteMs: 0,
      candlePublishMs: 0,
      overviewEveryMs: 100,
      createFeeds(ctx) {
        const sim = createSimulatedVenues({
          symbols: SYMBOLS,
          seed: holder === "a" ? 1 : 2,
          stepMs: 20,
          onEvent: ctx.onEvent,
          chaos: { outageEveryMs: 0, outlierEveryMs: 0, quietEveryMs: 0 },
        });
        if (ctx.board) sim.restore(Object.values(ctx.board.quotes));
        running.set(holder, (running.get(holder) ?? 0) + sim.feeds.length);
        return sim.feeds.map((f) => ({
          ...f,
          venue: f.venue,
          start: () => f.start(),
          health: () => f.health(),
          async stop() {
            await f.stop();
            running.set(holder, running.get(holder)! - 1);
          },
        }));
      },
      publish(messages) {
        for (const m of messages) {
          published.set(m.channel, [...(published.get(m.channel) ?? []), m]);
        }
        return Promise.resolve();
      },
    });
  const stopA = new AbortController();
  const stopB = new AbortController();
  const a = start("a", stopA.signal);
  const b = start("b", stopB.signal);
  try {
    let lastBtc = "";
    const board = await waitFor(async () => {
      const board = await readBoard(kv);
      // All three venues in the price (on a loaded machine a venue may still be warming).
      lastBtc = JSON.stringify(board?.quotes["BTC-USD"]);
      return board?.overview && Object.keys(board.quotes).length === 2 &&
        board.quotes["BTC-USD"]?.sourcesUsed === 3 &&
        board.candles?.["BTC-USD"] && board.candles?.["BTC-USD@1h"] && board;
    }, {
      timeoutMs: 10_000,
      what: "a board with quotes of three venues, candles and an overview",
      detail: () => `BTC-USD: ${lastBtc}`,
    });
    const q = board.quotes["BTC-USD"];
    equal(q.sourcesUsed, 3);
    deepStrictEqual(Object.keys(q.venues!).sort(), ["sim-a", "sim-b", "sim-c"]);
    deepStrictEqual(board.venues!.map((v) => v.venue), ["sim-a", "sim-b", "sim-c"]);
    equal(board.venues![0].connected, true);
    for (
      const channel of [
        "prices:BTC-USD",
        "prices:ETH-USD",
        "candles:BTC-USD",
        "candles:BTC-USD@1h",
        "market:overview",
      ]
    ) {
      ok(published.has(channel), `published on ${channel}: ${[...published.keys()]}`);
    }
    const first = (await leaseHolder(kv, MARKET_LEASE))!;
    equal(running.get(first), 3, "the holder runs three feeds");
    equal(running.get(first === "a" ? "b" : "a") ?? 0, 0, "the other runs none");
    const stored = await waitFor(
      async () => {
        const r = await readCandles(kv, { symbol: "BTC-USD", interval: "1m" });
        return r.candles.length > 0 && r;
      },
      { timeoutMs: 5_000, what: "a stored candle" },
    );
    ok(stored.candles.at(-1)!.n > 0);

    // The holder stops: its feeds stop, the other takes over and continues the prices.
    const before = board.quotes["BTC-USD"].price;
    (first === "a" ? stopA : stopB).abort();
    await deadline(first === "a" ? a : b, 10_000, `engine ${first} to stop`);
    equal(running.get(first), 0, "the old holder's feeds are stopped");
    const next = first === "a" ? "b" : "a";
    await waitFor(async () => (await leaseHolder(kv, MARKET_LEASE)) === next, {
      timeoutMs: 10_000,
      what: `the lease to move to ${next}`,
    });
    const seq = (await readBoard(kv))!.seq;
    await waitFor(async () => (await readBoard(kv))!.seq > seq + 3, {
      timeoutMs: 10_000,
      what: "the successor to write the board",
    });
    const after = (await readBoard(kv))!.quotes["BTC-USD"].price;
    ok(Math.abs(after / before - 1) < 0.02, `continuous: ${before} → ${after}`);
  } finally {
    stopA.abort();
    stopB.abort();
    await deadline(Promise.all([a, b]), 10_000, "both engines to stop");
  }
  equal(await leaseHolder(kv, MARKET_LEASE), null, "released on stop");
  equal([...running.values()].reduce((x, y) => x + y, 0), 0, "no feed left running");
});
