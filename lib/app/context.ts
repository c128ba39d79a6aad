/**
 * The bridge from `main.ts` to routes. Fresh 1.x routes cannot take constructor
 * arguments, so `main.ts` builds the services and registers them here, and
 * `routes/_middleware.ts` puts them on `ctx.state`. Nothing else reads this module.
 */
import type { Principal } from "../auth/mod.ts";
import type { AppServices } from "./services.ts";

let current: AppServices | undefined;

/** The state every route sees as `ctx.state`. */
export interface AppState {
  services: AppServices;
  /** The signed-in user of this request (session cookie), or `null`. */
  user: Principal | null;
}

/** Registers the services of this isolate (called once by `main.ts`). */
export function setAppServices(services: AppServices): void {
  current = services;
}

/** The services registered by `main.ts`. */
export function appServices(): AppServices {
  if (!current) throw new Error("Cannot use app services: main.ts has not started them");
  return current;
}
