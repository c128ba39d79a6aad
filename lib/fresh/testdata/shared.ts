import { signal } from "@preact/signals";

/** Module-level state shared by the SharedInc and SharedView islands. */
export const shared = signal(0);

/** The state the fixture's middlewares fill in. */
export interface State {
  trail: string[];
}
