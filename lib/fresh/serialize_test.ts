import assert from "node:assert/strict";
import { h } from "preact";
import { computed, type Signal, signal } from "@preact/signals";
import { deserializeIslands, escapeJson, isSignal, serializeIslands } from "./serialize.ts";

const BREAKOUT = "</script><script>alert(1)</script> <!-- --> <script> \u2028\u2029 & >";

function roundTrip(props: Record<string, unknown>) {
  const text = serializeIslands([{ key: "./islands/X.tsx", exportName: "default", props }]);
  return { text, props: deserializeIslands(text)[0].props };
}

Deno.test("[serialize] JSON values, undefined, non-finite numbers and dates round-trip", () => {
  const props = {
    text: "plain",
    n: 1.5,
    yes: true,
    none: null,
    missing: undefined,
    list: [1, "two", null, undefined, [3]],
    nested: { deep: { deeper: ["x"] } },
    special: [NaN, Infinity, -Infinity, -0],
    when: new Date("2024-05-06T07:08:09.010Z"),
  };
  const { props: back } = roundTrip(props);
  assert.deepEqual(back, props);
  assert.ok("missing" in back, "an undefined prop stays present");
  assert.ok(Object.is((back.special as number[])[3], -0));
});

Deno.test("[serialize] objects using the tag key are not mistaken for special values", () => {
  const props = { $t: "s", obj: { $t: "u", v: 1 }, list: [{ $t: "o", v: {} }] };
  assert.deepEqual(roundTrip(props).props, props);
});

Deno.test("[serialize] a __proto__ key stays data", () => {
  const props = JSON.parse('{"obj":{"__proto__":{"polluted":true}}}');
  const back = roundTrip(props).props.obj as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(back), Object.prototype);
  assert.deepEqual(Object.keys(back), ["__proto__"]);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("[serialize] signals are revived as signals, one per shared instance", () => {
  const count = signal(5);
  const doubled = computed(() => count.value * 2);
  const text = serializeIslands([
    { key: "./islands/A.tsx", exportName: "default", props: { count, doubled, box: { count } } },
    { key: "./islands/B.tsx", exportName: "B", props: { count } },
  ]);
  const [a, b] = deserializeIslands(text);
  assert.equal(b.exportName, "B");
  const revived = a.props.count as Signal<number>;
  assert.ok(isSignal(revived));
  assert.equal(revived.value, 5);
  assert.equal((a.props.doubled as Signal<number>).value, 10);
  assert.equal((a.props.box as { count: unknown }).count, revived, "same instance in one island");
  assert.equal(b.props.count, revived, "same instance across islands");
  revived.value = 6;
  assert.equal((b.props.count as Signal<number>).value, 6);
});

Deno.test("[serialize] signals holding structured values round-trip", () => {
  const state = signal({ items: [1, 2], label: undefined as string | undefined });
  const back = roundTrip({ state }).props.state as Signal<unknown>;
  assert.deepEqual(back.value, { items: [1, 2], label: undefined });
});

Deno.test("[serialize] output cannot break out of a script element", () => {
  const { text, props } = roundTrip({ text: BREAKOUT, [BREAKOUT]: BREAKOUT });
  assert.deepEqual(props, { text: BREAKOUT, [BREAKOUT]: BREAKOUT });
  for (const forbidden of ["<", ">", "&", "\u2028", "\u2029"]) {
    assert.ok(!text.includes(forbidden), `no raw ${JSON.stringify(forbidden)} in ${text}`);
  }
  assert.ok(text.includes("\\u003c/script\\u003e"));
  assert.equal(escapeJson('"<!--"'), '"\\u003c!--"');
  assert.equal(escapeJson("\u2028&"), "\\u2028\\u0026");
});

Deno.test("[serialize] functions, JSX and unsupported values fail with the prop path", () => {
  const fail = (props: Record<string, unknown>, message: RegExp) =>
    assert.throws(() => roundTrip(props), message);
  fail(
    { onClick: () => {} },
    /^Error: Cannot serialize island prop onClick of \.\/islands\/X\.tsx: functions\/JSX are not supported$/,
  );
  fail({ children: h("b", null, "x") }, /island prop children of .*: functions\/JSX/);
  fail({ list: [1, { render: () => null }] }, /island prop list\[1\]\.render of /);
  fail({ big: 1n }, /island prop big of .*: bigint values are not supported/);
  fail({ map: new Map() }, /island prop map of .*: Map instances are not supported/);
  const loop: Record<string, unknown> = {};
  loop.self = loop;
  fail({ loop }, /island prop loop\.self of .*: circular references are not supported/);
  fail({ sig: signal(() => {}) }, /island prop sig\.value of .*: functions\/JSX/);
});

Deno.test("[serialize] the same object twice is not a cycle", () => {
  const shared = { a: 1 };
  assert.deepEqual(roundTrip({ x: shared, y: [shared, shared] }).props, {
    x: shared,
    y: [shared, shared],
  });
});
