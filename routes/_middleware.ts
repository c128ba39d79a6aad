import type { FreshContext } from "$fresh/server.ts";
import { appServices, type AppState } from "../lib/app/context.ts";

/**
 * Puts this isolate's services on `ctx.state` for every route, and the signed-in user
 * (session cookie) for pages and APIs — not for static files and island bundles.
 */
export async function handler(req: Request, ctx: FreshContext<AppState>) {
  ctx.state.services = appServices();
  const page = ctx.destination === "route" || ctx.destination === "notFound";
  ctx.state.user = page ? await ctx.state.services.auth.sessionFromRequest(req) : null;
  return await ctx.next();
}
