/**
 * The per-page render state shared by the server renderer, island marking and `<Head>`.
 * No side effects, so `runtime.ts` (bundled for the browser) can import it.
 *
 * @module
 */
import { type ComponentChildren, createContext } from "preact";
import type { IslandProps } from "./serialize.ts";

/** What one page render collects. */
export interface RenderState {
  /** Islands rendered on the page, in order. */
  islands: IslandProps[];
  /** Children of `<Head>` elements, in render order (optional for older callers). */
  head?: ComponentChildren[];
}

/** Provided around a page while it renders; absent outside of page rendering. */
export const RenderStateContext = createContext<RenderState | null>(null);
