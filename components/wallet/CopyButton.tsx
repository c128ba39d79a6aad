import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";

/** Props of {@linkcode CopyButton}. */
export interface CopyButtonProps {
  /** The text copied. */
  text: string;
  /** What it is, for the accessible name: "transaction hash", "address". */
  what: string;
}

/** How long "Copied" shows, ms. */
const SHOWN_MS = 1_500;

/**
 * A small button that copies `text` to the clipboard and says so ("Copied", announced
 * politely); "Copy failed" where the browser refuses.
 */
export function CopyButton({ text, what }: CopyButtonProps) {
  const state = useSignal<"idle" | "copied" | "failed">("idle");
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      state.value = "copied";
    } catch {
      state.value = "failed";
    }
    clearTimeout(timer.current);
    timer.current = setTimeout(() => state.value = "idle", SHOWN_MS);
  };
  return (
    <span class="copy-wrap">
      <button
        type="button"
        class="copy"
        data-state={state.value}
        aria-label={`Copy ${what} ${text}`}
        title={`Copy ${what}`}
        onClick={copy}
      >
        <svg viewBox="0 0 16 16" width="13" height="13" aria-hidden="true" focusable="false">
          <rect x="5" y="5" width="9" height="9" rx="1.5" fill="none" stroke="currentColor" />
          <path
            d="M11 3.5V3a1 1 0 0 0-1-1H3a1 1 0 0 0-1 1v7a1 1 0 0 0 1 1h.5"
            fill="none"
            stroke="currentColor"
          />
        </svg>
      </button>
      <span class="copy-note" role="status">
        {state.value === "copied" ? "Copied" : state.value === "failed" ? "Copy failed" : ""}
      </span>
    </span>
  );
}
