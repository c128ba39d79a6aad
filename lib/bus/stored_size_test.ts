import { equal, ok, throws } from "node:assert/strict";
import { serialize } from "node:v8";
import {
  MAX_STORED_DEPTH,
  storedSize,
  storedSizeBound,
  UnstorableValueError,
} from "./stored_size.ts";

/** A small PRNG, so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function randomValue(rand: () => number, depth: number): unknown {
  const pick = Math.floor(rand() * (depth > 3 ? 7 : 9));
  // Long strings sometimes; containers stay small so values stay small.
  const len = Math.floor(rand() * (pick < 7 && rand() < 0.1 ? 400 : 6));
  const chars = ["a", "é", "€", "😀", "\u0000", "\u00ff", "9"];
  const text = () => {
    const s = Array.from({ length: len }, () => chars[Math.floor(rand() * chars.length)]).join("");
    // Sometimes a Latin-1 string that is two-byte inside V8.
    const latin1 = Array.from(s, (c) => c.charCodeAt(0) > 0xff ? "a" : c).join("");
    return rand() < 0.3 ? "\u20ac".concat(latin1).slice(1) : s;
  };
  switch (pick) {
    case 0:
      return null;
    case 1:
      return rand() < 0.5;
    case 2: {
      const ints = [0, 1, -1, 63, 64, -64, -65, 8191, 8192, 2 ** 30 - 1, -(2 ** 30), 2 ** 30];
      return ints[Math.floor(rand() * ints.length)] * (rand() < 0.5 ? 1 : -1);
    }
    case 3:
      return [1.5, -0, 3e9, 2 ** 53, -1e308, 2 ** 31, -(2 ** 31)][Math.floor(rand() * 7)];
    case 4:
    case 5:
      return text();
    case 6:
      return Math.floor(rand() * 2 ** 32);
    case 7: {
      const items = Array.from({ length: len }, () => randomValue(rand, depth + 1));
      const shape = rand();
      if (shape < 0.3) {
        // Holey, as `new Array(n)` filled by index (the MessagePack decoder): sparse format.
        const holey = new Array(len);
        items.forEach((item, i) => holey[i] = item);
        return holey;
      }
      if (shape < 0.5) {
        // Once held doubles: every number is written as a double.
        const doubles: unknown[] = items.map(() => 1.5);
        items.forEach((item, i) => doubles[i] = typeof item === "number" ? i : item);
        return doubles;
      }
      return items;
    }
    default:
      return Object.fromEntries(
        Array.from({ length: len }, (_, i) => [
          rand() < 0.3 ? String(i * 1_000_003) : text(),
          randomValue(rand, depth + 1),
        ]),
      );
  }
}

Deno.test("[stored size] never below V8's own serialization, and close to it", () => {
  for (let seed = 1; seed <= 3_000; seed++) {
    const value = randomValue(prng(seed), 0);
    const actual = serialize(value).byteLength;
    const bound = storedSizeBound(value);
    ok(bound >= actual, `seed ${seed}: bound ${bound} < actual ${actual}`);
    ok(bound <= actual * 6 + 16, `seed ${seed}: bound ${bound} far above actual ${actual}`);
  }
});

Deno.test("[stored size] close for the values the bus carries most", () => {
  const quote = {
    channel: "prices:BTC-USD",
    epoch: "0123456789ab",
    offset: 1_042,
    ts: 1_763_790_000_000,
    data: { symbol: "BTC-USD", price: 67_012.35, bid: 67_010, ask: 67_014.7, sources: 3 },
  };
  const actual = serialize(quote).byteLength;
  const bound = storedSizeBound(quote);
  ok(bound >= actual && bound <= actual * 2, `bound ${bound}, actual ${actual}`);
  equal(storedSize(quote, 60 * 1024), bound, "within the limit: the bound, no serialization");
  // 16 KiB of small integers as JSON: bounded at 12 bytes each, 2 bytes each for real.
  const ints = JSON.parse(`[${new Array(8_000).fill(1).join(",")}]`);
  ok(storedSizeBound(ints) > 60 * 1024);
  equal(storedSize(ints, 60 * 1024), serialize(ints).byteLength, "over it: exact");
});

Deno.test("[stored size] refuses what KV cannot store or V8 cannot serialize safely", () => {
  let deep: unknown = 1;
  for (let i = 0; i < MAX_STORED_DEPTH; i++) deep = [deep];
  equal(storedSizeBound(deep) > 0, true);
  throws(() => storedSizeBound([deep]), UnstorableValueError);
  for (
    const bad of [() => 1, Symbol("s"), 1n, undefined, new Uint8Array(2), new Date(), new Map()]
  ) {
    throws(() => storedSize({ bad }, 1_000), UnstorableValueError, String(bad));
  }
  // deno-lint-ignore no-sparse-arrays
  throws(() => storedSizeBound([1, , 3]), UnstorableValueError);
});
