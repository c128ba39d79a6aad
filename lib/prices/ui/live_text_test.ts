import { deepEqual, equal } from "node:assert/strict";
import { type SelectionLike, setLiveText } from "./live_text.ts";

/** Enough of a Text node for setLiveText (no DOM in Deno). */
function textNode(data: string): Text {
  const node = {
    data,
    get length(): number {
      return node.data.length;
    },
  };
  return node as unknown as Text;
}

function selection(
  anchorNode: Node | null,
  anchorOffset: number,
  focusNode: Node | null,
  focusOffset: number,
) {
  const calls: [Node, number, Node, number][] = [];
  const sel: SelectionLike & { calls: typeof calls } = {
    rangeCount: anchorNode ? 1 : 0,
    anchorNode,
    anchorOffset,
    focusNode,
    focusOffset,
    calls,
    setBaseAndExtent(a, ao, f, fo) {
      calls.push([a, ao, f, fo]);
    },
  };
  return sel;
}

Deno.test("[prices/ui] live text: a selected price stays selected across a tick", () => {
  const node = textNode("$67,012.35");
  const whole = selection(node, 0, node, 10);
  equal(setLiveText(node, "$67,012.41", whole), true);
  equal(node.data, "$67,012.41");
  deepEqual(whole.calls, [[node, 0, node, 10]]);
  // Whole and longer: still whole. Backwards (focus before anchor): kept backwards.
  const back = selection(node, 10, node, 0);
  setLiveText(node, "$167,012.41", back);
  deepEqual(back.calls, [[node, 11, node, 0]]);
  // Part of it: the same offsets, clamped to the new length.
  const part = selection(node, 2, node, 11);
  setLiveText(node, "$9.5", part);
  deepEqual(part.calls, [[node, 2, node, 4]]);
});

Deno.test("[prices/ui] live text: other selections are left alone", () => {
  const node = textNode("1.00");
  const other = textNode("elsewhere");
  const sel = selection(other, 0, other, 3);
  setLiveText(node, "2.00", sel);
  deepEqual(sel.calls, [], "a selection elsewhere is not touched");
  equal(setLiveText(node, "2.00", sel), false, "no change, no write");
  setLiveText(node, "3.00", null);
  equal(node.data, "3.00");
  // One boundary inside (a selection across cells): that boundary is restored.
  const across = selection(other, 1, node, 4);
  setLiveText(node, "3.5", across);
  deepEqual(across.calls, [[other, 1, node, 3]]);
});
