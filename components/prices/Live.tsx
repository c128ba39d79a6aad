import { effect, type ReadonlySignal } from "@preact/signals";
import type { RefObject } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { setLiveText } from "../../lib/prices/ui/live_text.ts";

/** Props of {@linkcode Live}. */
export interface LiveProps {
  /** The text, recomputed from signals. */
  text: ReadonlySignal<string>;
  class?: string;
  "data-testid"?: string;
  title?: string;
}

function selection(): Selection | null {
  return typeof getSelection === "function" ? getSelection() : null;
}

/**
 * A live number: rendered once, then only its text node changes — no re-render, no new
 * node — so the reader can select and copy it while it ticks (the selection is kept,
 * lib/prices/ui/live_text.ts).
 */
export function Live(props: LiveProps) {
  const ref = useRef<HTMLSpanElement>(null);
  // The markup never changes after the first render: Preact then leaves the text node to us.
  const first = useRef(props.text.peek());
  useEffect(() =>
    effect(() => {
      const text = props.text.value;
      const el = ref.current;
      if (!el) return;
      const node = el.firstChild;
      if (node instanceof Text && node === el.lastChild) setLiveText(node, text, selection());
      else el.textContent = text;
    }), [props.text]);
  return (
    <span ref={ref} class={props.class} data-testid={props["data-testid"]} title={props.title}>
      {first.current}
    </span>
  );
}

/**
 * Keeps `classes` (a space-separated list from a signal) on the element of `ref`, next to
 * the classes it was rendered with; changes only what differs.
 */
export function useLiveClass(
  ref: RefObject<Element>,
  classes: ReadonlySignal<string>,
): void {
  useEffect(() => {
    let applied: string[] = [];
    return effect(() => {
      const wanted = classes.value.split(/\s+/).filter(Boolean);
      const el = ref.current;
      if (!el) return;
      for (const c of applied) if (!wanted.includes(c)) el.classList.remove(c);
      for (const c of wanted) if (!applied.includes(c)) el.classList.add(c);
      applied = wanted;
    });
  }, [classes]);
}
