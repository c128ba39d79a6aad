/**
 * Server-side island marking. Every function exported by a manifest island module is
 * registered; preact's `options.vnode` hook (chained after any hook installed before)
 * swaps such a component for a wrapper when a vnode is created. While rendering a page,
 * the wrapper records the island and its props in the page's {@linkcode RenderState}
 * and renders
 *
 * ```html
 * <frsh-island data-frsh="N">…island markup…</frsh-island>
 * ```
 *
 * so the client runtime can hydrate element N with island N's props. The element has no
 * `style` attribute, so a CSP without `style-src-attr 'unsafe-inline'` allows it; the
 * app's stylesheet gives it `display: contents` (README.md). Islands rendered
 * inside another island are not wrapped again: they hydrate as part of their parent.
 *
 * @module
 */
import { type ComponentType, createContext, h, options, type VNode } from "preact";
import { useContext } from "preact/hooks";
import { type RenderState, RenderStateContext } from "./render_state.ts";
import type { IslandModule } from "./types.ts";

export { type RenderState, RenderStateContext };

const InsideIsland = createContext(false);

type Component = ComponentType<Record<string, unknown>>;

const wrappers = new Map<unknown, Component>();

const previousVnodeHook = options.vnode;
options.vnode = (vnode: VNode) => {
  const wrapper = wrappers.get(vnode.type);
  if (wrapper) vnode.type = wrapper;
  previousVnodeHook?.(vnode);
};

/** Registers every exported function of the island modules as an island. */
export function registerIslands(islands: Record<string, IslandModule>): void {
  for (const [key, module] of Object.entries(islands)) {
    for (const [exportName, value] of Object.entries(module)) {
      if (typeof value === "function" && !wrappers.has(value)) {
        wrappers.set(value, createWrapper(key, exportName, value as Component));
      }
    }
  }
}

/** True when `component` was registered as an island. */
export function isIsland(component: unknown): boolean {
  return wrappers.has(component);
}

function createWrapper(key: string, exportName: string, component: Component): Component {
  function Island(props: Record<string, unknown>) {
    const state = useContext(RenderStateContext);
    const inside = useContext(InsideIsland);
    const inner = h(component, props);
    inner.type = component; // the vnode hook replaced it with this wrapper
    if (!state || inside) return inner;
    const id = state.islands.push({ key, exportName, props }) - 1;
    return h(
      "frsh-island",
      { "data-frsh": String(id) },
      h(InsideIsland.Provider, { value: true }, inner),
    );
  }
  Island.displayName = `Island(${key}#${exportName})`;
  return Island;
}
