import type { FreshContext } from "$fresh/server.ts";
import { appServices, type AppState } from "../lib/app/context.ts";
import { securityHeaders } from "../lib/app/security_headers.ts";

/**
 * Puts this isolate's services on `ctx.state` for every route, and the signed-in user
 * (session cookie) for pages and APIs — not for static files and island bundles.
 */
async function services(req: Request, ctx: FreshContext<AppState>): Promise<Response> {
  ctx.state.services = appServices();
  const page = ctx.destination === "route" || ctx.destination === "notFound";
  ctx.state.user = page ? await ctx.state.services.auth.sessionFromRequest(req) : null;
  return await ctx.next();
}

/** Security headers first (lib/app/security_headers.ts), so they reach every response. */
export const handler = [securityHeaders(), services];
