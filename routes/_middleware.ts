import type { FreshContext } from "$fresh/server.ts";
import { appServices, type AppState } from "../lib/app/context.ts";

/** Puts this isolate's services on `ctx.state` for every route. */
export async function handler(_req: Request, ctx: FreshContext<AppState>) {
  ctx.state.services = appServices();
  return await ctx.next();
}
