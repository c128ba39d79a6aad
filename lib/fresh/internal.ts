/**
 * Process-wide state shared by the server modules and, in the browser, by the client
 * runtime and `asset()`: the current build id and whether `dev()` switched on dev mode.
 *
 * @module
 */

/** The query parameter that marks a static file URL as belonging to one build. */
export const ASSET_CACHE_BUST_KEY = "__frsh_c";

let buildId = "";
let devMode = false;

/** Sets the build id used by `asset()` and the bundle URLs. */
export function setBuildId(id: string): void {
  buildId = id;
}

/**
 * The current build id. In the browser it is read, once, from the island state script
 * of the page (`data-build-id`), so it is known before any island code runs.
 */
export function getBuildId(): string {
  if (buildId === "" && typeof document !== "undefined") {
    buildId = document.getElementById("__FRSH_STATE")?.getAttribute("data-build-id") ?? "";
  }
  return buildId;
}

/** Switches dev mode on: bundles are built in memory and nothing is cached immutably. */
export function setDevMode(on: boolean): void {
  devMode = on;
}

/** True after `dev()` switched dev mode on. */
export function isDevMode(): boolean {
  return devMode;
}
