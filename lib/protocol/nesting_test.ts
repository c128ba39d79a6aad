import { equal } from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { jsonNestsDeeper, msgpackNestsDeeper } from "./nesting.ts";

function nested(depth: number, inner: unknown = 1): unknown {
  let v = inner;
  for (let i = 0; i < depth; i++) v = i % 2 ? { k: v } : [v];
  return v;
}

Deno.test("[nesting] JSON: counts arrays and objects, not brackets inside strings", () => {
  for (const depth of [0, 1, 5, 64, 65, 3_600]) {
    const text = JSON.stringify(nested(depth));
    equal(jsonNestsDeeper(text, 64), depth > 64, `depth ${depth}`);
  }
  equal(jsonNestsDeeper(JSON.stringify({ s: "[[[[[[[[[[", t: '\\"[[[[' }), 3), false);
  equal(jsonNestsDeeper('{"a":"\\\\"}', 1), false, "an escaped backslash ends nothing");
  equal(jsonNestsDeeper("[[[", 2), true, "malformed input is still measured");
  equal(jsonNestsDeeper("", 0), false);
});

Deno.test("[nesting] MessagePack: every container header, fixed and sized", () => {
  for (const depth of [0, 1, 5, 64, 65, 3_600]) {
    equal(msgpackNestsDeeper(encode(nested(Math.min(depth, 90))), 64), depth > 64, `${depth}`);
    // As deep as a frame can be: one-element arrays (0x91) and maps ({"": …}: 0x81 0xa0).
    const arrays = new Uint8Array(depth + 1).fill(0x91);
    arrays[depth] = 0x01;
    equal(msgpackNestsDeeper(arrays, 64), depth > 64, `arrays ${depth}`);
    const maps = new Uint8Array(2 * depth + 1);
    for (let i = 0; i < depth; i++) maps.set([0x81, 0xa0], 2 * i);
    maps[2 * depth] = 0xc0;
    equal(msgpackNestsDeeper(maps, 64), depth > 64, `maps ${depth}`);
  }
  // Large containers (array 16 / map 16 headers) and every scalar kind between them.
  const wide = {
    list: Array.from({ length: 300 }, (_, i) => [i, -i, i * 1.5, `s${i}`, i % 2 === 0, null]),
    map: Object.fromEntries(Array.from({ length: 70_000 / 1_000 }, (_, i) => [`k${i}`, [i]])),
    bin: new Uint8Array(300),
    big: 2 ** 40,
    neg: -(2 ** 40),
    text: "x".repeat(70_000),
  };
  equal(msgpackNestsDeeper(encode(wide), 3), false);
  equal(msgpackNestsDeeper(encode(wide), 2), true);
  // A header declaring 2^32 elements, and one with its length cut off: stop at the end.
  equal(msgpackNestsDeeper(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff, 0x91, 0x91]), 2), true);
  equal(msgpackNestsDeeper(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff, 0x91]), 2), false);
  equal(msgpackNestsDeeper(new Uint8Array([0xdf, 0xff]), 1), false);
  equal(msgpackNestsDeeper(new Uint8Array([0xc1, 0x91, 0x91]), 1), false, "0xc1: decoder's job");
  // Extension payloads are skipped, whatever their bytes look like.
  const ext = new Uint8Array([0x92, 0xc7, 3, 5, 0x91, 0x91, 0x91, 0xd4, 1, 0x91]);
  equal(msgpackNestsDeeper(ext, 1), false);
});

Deno.test("[nesting] a 64 KiB frame nested to the end is measured quickly", () => {
  const json = "[".repeat(32_768) + "]".repeat(32_768);
  const bytes = new Uint8Array(65_536).fill(0x91);
  const started = performance.now();
  for (let i = 0; i < 20; i++) {
    equal(jsonNestsDeeper(json, 64), true);
    equal(msgpackNestsDeeper(bytes, 64), true);
  }
  const each = (performance.now() - started) / 40;
  equal(each < 5, true, `${each.toFixed(3)} ms per frame`);
});
