import { useEffect } from "preact/hooks";
import { useSignal } from "@preact/signals";
import { asset, IS_BROWSER } from "$fresh/runtime.ts";

/**
 * A named-export island, rendered last on /islands. It shows "hydrated" once its effect
 * ran (so every island of the page is hydrated), and `asset()` / `IS_BROWSER` as seen
 * on the client when clicked.
 */
export function Named() {
  const seen = useSignal("server");
  useEffect(() => {
    seen.value = "hydrated";
  }, []);
  return (
    <div class="named">
      <span class="seen">{seen}</span>
      <button
        type="button"
        onClick={() => seen.value = `${IS_BROWSER} ${asset("/img/logo.svg")}`}
      >
        check
      </button>
    </div>
  );
}
