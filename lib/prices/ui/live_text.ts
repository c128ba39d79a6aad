/**
 * Changing a live number's text without losing the reader's selection.
 *
 * Replacing a text node's data moves every selection boundary inside it to offset 0 (DOM
 * "replace data"), so a price selected for copying collapses on the next tick. This writes
 * the new text and puts the boundaries that were inside the node back at the same
 * character positions (clamped to the new length): a selected price stays selected, and
 * copying it copies the current value.
 *
 * @module
 */

/** The part of `Selection` used here (a fake one in tests). */
export interface SelectionLike {
  readonly rangeCount: number;
  readonly anchorNode: Node | null;
  readonly anchorOffset: number;
  readonly focusNode: Node | null;
  readonly focusOffset: number;
  setBaseAndExtent(anchor: Node, anchorOffset: number, focus: Node, focusOffset: number): void;
}

/**
 * Sets `node`'s text to `text`; when the selection has a boundary inside `node`, restores
 * it at the same offsets afterwards. Returns whether the text changed.
 */
export function setLiveText(node: Text, text: string, selection: SelectionLike | null): boolean {
  if (node.data === text) return false;
  const sel = selection && selection.rangeCount > 0 ? selection : null;
  const anchorIn = sel?.anchorNode === node;
  const focusIn = sel?.focusNode === node;
  if (!sel || (!anchorIn && !focusIn)) {
    node.data = text;
    return true;
  }
  const anchor = sel.anchorNode!;
  const focus = sel.focusNode!;
  // A whole-number selection (start to end) stays whole even if the text got longer.
  const whole = anchorIn && focusIn &&
    Math.min(sel.anchorOffset, sel.focusOffset) === 0 &&
    Math.max(sel.anchorOffset, sel.focusOffset) === node.length;
  const forward = sel.anchorOffset <= sel.focusOffset;
  let anchorOffset = sel.anchorOffset;
  let focusOffset = sel.focusOffset;
  node.data = text;
  if (whole) {
    anchorOffset = forward ? 0 : text.length;
    focusOffset = forward ? text.length : 0;
  }
  const clamp = (n: number) => Math.min(n, text.length);
  try {
    sel.setBaseAndExtent(
      anchor,
      anchorIn ? clamp(anchorOffset) : anchorOffset,
      focus,
      focusIn ? clamp(focusOffset) : focusOffset,
    );
  } catch {
    // The other boundary's node left the document meanwhile: keep the new text only.
  }
  return true;
}
