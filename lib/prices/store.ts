/** The price board in Deno KV: one value, written by the producer, watched by every isolate. */
import { priceBoardKey } from "../bus/keys.ts";
import type { PriceBoard, Quote } from "./types.ts";

/** Reads the current board, or `null` before the first write. */
export async function readBoard(kv: Deno.Kv): Promise<PriceBoard | null> {
  return (await kv.get<PriceBoard>(priceBoardKey())).value;
}

/**
 * Merges `quotes` into the stored board in one atomic commit and returns the new board.
 * Retries when another writer committed in between.
 */
export async function writeQuotes(kv: Deno.Kv, quotes: Quote[], now: number): Promise<PriceBoard> {
  const key = priceBoardKey();
  for (let attempt = 0; attempt < 10; attempt++) {
    const current = await kv.get<PriceBoard>(key);
    const board: PriceBoard = {
      seq: (current.value?.seq ?? 0) + 1,
      ts: now,
      quotes: { ...current.value?.quotes },
    };
    for (const q of quotes) board.quotes[q.symbol] = q;
    const result = await kv.atomic().check(current).set(key, board).commit();
    if (result.ok) return board;
  }
  throw new Error("Cannot write price board: too much contention on the board key");
}

/**
 * Yields the board each time it changes (KV `watch` coalesces: a reader may skip
 * intermediate boards, never the latest). Ends when `signal` aborts.
 */
export async function* watchBoard(kv: Deno.Kv, signal: AbortSignal): AsyncGenerator<PriceBoard> {
  const stream = kv.watch<[PriceBoard]>([priceBoardKey()]);
  const reader = stream.getReader();
  const onAbort = () => reader.cancel().catch(() => {});
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    while (!signal.aborted) {
      const { done, value } = await reader.read();
      if (done) return;
      const board = value[0].value;
      if (board) yield board;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
