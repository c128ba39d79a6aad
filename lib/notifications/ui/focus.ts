/**
 * Keyboard helpers of the notification panel: Tab kept inside a dialog, and the arrow
 * keys moving between rows of a list (each row marks its target with `data-nav`).
 *
 * @module
 */

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** The elements of `root` that Tab reaches, in order (visible ones only). */
export function tabbables(root: Element): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) =>
    el.getClientRects().length > 0
  );
}

/**
 * Keeps Tab and Shift+Tab inside `root`: from the last element to the first and back.
 * Returns true when it moved the focus (the caller prevents the default).
 */
export function trapTab(root: Element, e: KeyboardEvent): boolean {
  if (e.key !== "Tab") return false;
  const list = tabbables(root);
  if (list.length === 0) return false;
  const first = list[0];
  const last = list[list.length - 1];
  const active = root.ownerDocument.activeElement;
  if (e.shiftKey && (active === first || !root.contains(active))) {
    last.focus();
    return true;
  }
  if (!e.shiftKey && (active === last || !root.contains(active))) {
    first.focus();
    return true;
  }
  return false;
}

/**
 * ArrowDown / ArrowUp / Home / End within `list`: focus the `[data-nav]` element of the
 * next, previous, first or last row. Returns true when it handled the key.
 */
export function moveInList(list: Element, e: KeyboardEvent): boolean {
  if (!["ArrowDown", "ArrowUp", "Home", "End"].includes(e.key)) return false;
  const targets = [...list.querySelectorAll<HTMLElement>("[data-nav]")];
  if (targets.length === 0) return false;
  const active = list.ownerDocument.activeElement;
  const row = active?.closest("li");
  const at = targets.findIndex((t) => t === active || (row && row.contains(t)));
  let next: number;
  if (e.key === "Home") next = 0;
  else if (e.key === "End") next = targets.length - 1;
  else if (e.key === "ArrowDown") next = at < 0 ? 0 : Math.min(targets.length - 1, at + 1);
  else next = at < 0 ? 0 : Math.max(0, at - 1);
  targets[next].focus();
  return true;
}
