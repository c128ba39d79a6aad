import { deepStrictEqual, equal, ok } from "node:assert/strict";
import fc from "fast-check";
import { quoteSequence } from "../../tests/fixtures/quote_sequence.ts";
import { applyPatch, diffValue, MAX_DELTA_DEPTH } from "./delta.ts";

/** Applies a patch that must apply. */
function apply(base: unknown, patch: unknown): unknown {
  const result = applyPatch(base, patch);
  if (!result.ok) throw new Error(`patch refused: ${result.error}`);
  return result.value;
}

// JSON values over a few keys (so objects share keys and patches nest), `__proto__`
// included: a patch must never reach a prototype.
const key = fc.constantFrom("a", "b", "price", "venues", "__proto__", "");
const leaf = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 4 }),
);
const { value: jsonValue, object: jsonObject } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" }, leaf, tie("array"), tie("object")),
  array: fc.array(tie("value"), { maxLength: 3 }),
  object: fc.dictionary(key, tie("value"), { maxKeys: 4, noNullPrototype: true }),
}));

/** RFC 7396 as written in the RFC, as an independent reference. */
function rfcMerge(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = {};
  if (typeof target === "object" && target !== null && !Array.isArray(target)) {
    for (const [k, v] of Object.entries(target)) define(out, k, v);
  }
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else define(out, k, rfcMerge(Object.hasOwn(out, k) ? out[k] : undefined, v));
  }
  return out;
}

function define(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

function withoutNulls(v: unknown): unknown {
  if (v === null) return 0;
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as object)) define(out, k, withoutNulls(x));
    return out;
  }
  return v;
}

Deno.test("[delta] property: apply(base, diff(base, next)) equals next", () => {
  // Related pairs (next = base patched by a random merge patch) and unrelated ones.
  const related = fc.tuple(jsonObject, jsonObject).map(([base, change]) =>
    [base, rfcMerge(base, change)] as const
  );
  fc.assert(
    fc.property(fc.oneof(related, fc.tuple(jsonObject, jsonObject)), ([base, next]) => {
      const before = structuredClone(base);
      const patch = diffValue(base, next);
      if (patch === undefined) return;
      deepStrictEqual(apply(base, patch), next);
      deepStrictEqual(rfcMerge(base, patch), next, "any RFC 7396 implementation agrees");
      deepStrictEqual(base, before, "the base is left as it was");
      equal(Object.prototype.hasOwnProperty.call({}, "a"), false);
    }),
    { numRuns: 1_000 },
  );
  equal(({} as Record<string, unknown>).a, undefined, "no prototype was polluted");
});

Deno.test("[delta] property: without nulls, every pair of objects has a patch", () => {
  const noNulls = jsonObject.map(withoutNulls);
  fc.assert(
    fc.property(noNulls, noNulls, (base, next) => {
      const patch = diffValue(base, next);
      ok(patch !== undefined);
      deepStrictEqual(apply(base, patch), next);
    }),
    { numRuns: 500 },
  );
});

Deno.test("[delta] property: values other than objects never get a patch", () => {
  const notObject = jsonValue.filter((v) =>
    typeof v !== "object" || v === null || Array.isArray(v)
  );
  fc.assert(
    fc.property(notObject, jsonValue, (a, b) => {
      equal(diffValue(a, b), undefined);
      equal(diffValue(b, a), undefined);
    }),
    { numRuns: 300 },
  );
});

Deno.test("[delta] property: equal values give an empty patch", () => {
  fc.assert(
    fc.property(jsonObject, (v) => {
      deepStrictEqual(diffValue(v, structuredClone(v)), {});
    }),
    { numRuns: 300 },
  );
});

Deno.test("[delta] merge-patch form: changed keys, null deletes, objects recursive, arrays whole", () => {
  const base = { p: 1, keep: "x", gone: true, nested: { a: 1, b: 2 }, list: [1, 2, 3] };
  const next = { p: 2, keep: "x", nested: { a: 1, b: 3, c: { d: 4 } }, list: [1, 2], extra: [] };
  const patch = diffValue(base, next);
  deepStrictEqual(patch, {
    p: 2,
    gone: null,
    nested: { b: 3, c: { d: 4 } },
    list: [1, 2],
    extra: [],
  });
  deepStrictEqual(apply(base, patch), next);
  // An object replacing a scalar goes whole (merged into an empty object by RFC 7396).
  deepStrictEqual(diffValue({ a: 1 }, { a: { b: 2 } }), { a: { b: 2 } });
  // Keys holding undefined are absent (JSON and MessagePack drop them).
  deepStrictEqual(diffValue({ a: 1, u: undefined }, { a: 1, v: undefined }), {});
  deepStrictEqual(diffValue({ a: 1 }, { a: undefined }), { a: null });
});

Deno.test("[delta] what a merge patch cannot say is left to a full message", () => {
  equal(diffValue({ a: 1 }, { a: null }), undefined, "a value becoming null");
  equal(diffValue({ a: 1 }, { a: { b: null } }), undefined, "a new object holding null");
  deepStrictEqual(diffValue({ a: null }, { a: null, b: 1 }), { b: 1 }, "an unchanged null");
  deepStrictEqual(diffValue({ a: 1 }, { a: [null] }), { a: [null] }, "null inside an array");
  equal(diffValue(1, 2), undefined, "not objects");
  equal(diffValue([1], [2]), undefined, "arrays at the top");
  equal(diffValue({ a: 1 }, "x"), undefined);
  equal(diffValue({ a: 1 }, { a: new Uint8Array(1) }), undefined, "binary values");
  equal(diffValue({ a: 1 }, { a: new Date(0) }), undefined, "extension values");
});

Deno.test("[delta] depth is bounded both ways", () => {
  const nest = (depth: number, leaf: unknown): unknown =>
    depth === 0 ? leaf : { n: nest(depth - 1, leaf) };
  // A change at object depth MAX_DELTA_DEPTH can be patched; one level deeper cannot.
  ok(diffValue(nest(MAX_DELTA_DEPTH, 1), nest(MAX_DELTA_DEPTH, 2)) !== undefined);
  equal(diffValue(nest(MAX_DELTA_DEPTH + 1, 1), nest(MAX_DELTA_DEPTH + 1, 2)), undefined);
  // A deep change under an unchanged sibling costs nothing: only the changed path counts.
  const deep = nest(200, 1);
  deepStrictEqual(diffValue({ deep, p: 1 }, { deep: structuredClone(deep), p: 2 }), { p: 2 });
  // The client refuses patches nesting too deep, whatever the base.
  const tooDeep = applyPatch({}, nest(MAX_DELTA_DEPTH + 1, 1));
  equal(tooDeep.ok, false);
  ok(!tooDeep.ok && tooDeep.error.includes(`deeper than ${MAX_DELTA_DEPTH}`));
  equal(applyPatch({}, nest(MAX_DELTA_DEPTH, 1)).ok, true);
});

Deno.test("[delta] applying: no base, a non-object patch, __proto__ keys", () => {
  const none = applyPatch(undefined, { a: 1 });
  ok(!none.ok && none.error === "no previous value to patch");
  const scalar = applyPatch({ a: 1 }, 5);
  ok(!scalar.ok && scalar.error === "a patch must be an object");
  const base = { a: 1 };
  const patch = JSON.parse('{"__proto__":{"polluted":true},"b":2}');
  const result = apply(base, patch) as Record<string, unknown>;
  equal(Object.getPrototypeOf(result), Object.prototype);
  deepStrictEqual(Object.keys(result), ["a", "__proto__", "b"]);
  equal(({} as Record<string, unknown>).polluted, undefined);
  deepStrictEqual(base, { a: 1 }, "the base is not changed");
});

Deno.test("[delta] realistic quotes: every patch rebuilds the next quote and is smaller", () => {
  const quotes = quoteSequence(300);
  let value: unknown = quotes[0];
  let fullBytes = 0;
  let patchBytes = 0;
  for (let i = 1; i < quotes.length; i++) {
    const patch = diffValue(quotes[i - 1], quotes[i]);
    ok(patch !== undefined, `quote ${i} has a patch`);
    value = apply(value, patch);
    deepStrictEqual(value, quotes[i]);
    fullBytes += JSON.stringify(quotes[i]).length;
    patchBytes += JSON.stringify(patch).length;
  }
  ok(patchBytes < fullBytes * 0.8, `patches ${patchBytes} B vs full ${fullBytes} B`);
});
