/**
 * `$fresh/runtime.ts`: helpers usable both in server-rendered components and in islands.
 *
 * @module
 */
import type { ComponentChildren } from "preact";
import { useContext } from "preact/hooks";
import { ASSET_CACHE_BUST_KEY, getBuildId } from "./internal.ts";
import { RenderStateContext } from "./render_state.ts";

/** True when running in a browser (inside a hydrated island). */
export const IS_BROWSER: boolean = typeof document !== "undefined";

/**
 * Adds `?__frsh_c=<build id>` to an absolute path (`/styles.css`), so the static file is
 * served with immutable caching. Other URLs, and paths that already carry the parameter,
 * are returned unchanged.
 */
export function asset(path: string): string {
  if (!path.startsWith("/") || path.startsWith("//")) return path;
  const id = getBuildId();
  if (id === "") return path;
  const hashAt = path.indexOf("#");
  const base = hashAt === -1 ? path : path.slice(0, hashAt);
  const hash = hashAt === -1 ? "" : path.slice(hashAt);
  if (new RegExp(`[?&]${ASSET_CACHE_BUST_KEY}=`).test(base)) return path;
  const separator = base.includes("?") ? "&" : "?";
  return `${base}${separator}${ASSET_CACHE_BUST_KEY}=${encodeURIComponent(id)}${hash}`;
}

/**
 * Fresh's `<Head>`: its children are rendered into the page's `<head>` (server rendering
 * only; inside a hydrated island it renders nothing). A `<title>` given here replaces
 * the one `_app` renders, so each page can name itself.
 */
export function Head({ children }: { children?: ComponentChildren }): null {
  const state = useContext(RenderStateContext);
  if (state) (state.head ??= []).push(children);
  return null;
}
