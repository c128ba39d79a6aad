/**
 * The browser runtime, bundled as `client.js`. The hydration script of a page imports it
 * together with the island bundles used on that page and calls {@linkcode boot}.
 *
 * @module
 */
import { type ComponentType, h, hydrate } from "preact";
import { setBuildId } from "./internal.ts";
import { deserializeIslands } from "./serialize.ts";

/** Island manifest key → the island module's exports. */
export type IslandModules = Record<string, Record<string, unknown>>;

/**
 * Reads the page's island state (`#__FRSH_STATE`), revives the props (signals included)
 * and hydrates every `<frsh-island data-frsh="N">` with island N.
 */
export function boot(modules: IslandModules): void {
  const script = document.getElementById("__FRSH_STATE");
  if (!script) return;
  setBuildId(script.getAttribute("data-build-id") ?? "");
  const islands = deserializeIslands(script.textContent ?? "[]");
  for (const element of document.querySelectorAll<HTMLElement>("frsh-island[data-frsh]")) {
    const island = islands[Number(element.dataset.frsh)];
    const component = island && modules[island.key]?.[island.exportName];
    if (typeof component !== "function") {
      console.error(`Cannot hydrate island ${element.dataset.frsh}: its module is not loaded`);
      continue;
    }
    try {
      hydrate(h(component as ComponentType<Record<string, unknown>>, island.props), element);
    } catch (error) {
      console.error(`Cannot hydrate island ${island.key}#${island.exportName}:`, error);
    }
  }
}
