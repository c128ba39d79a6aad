import type { FreshContext } from "$fresh/server.ts";
import type { State } from "../shared.ts";

export async function handler(req: Request, ctx: FreshContext<State>): Promise<Response> {
  if (new URL(req.url).searchParams.has("deny")) {
    return new Response("denied by root middleware", { status: 403 });
  }
  ctx.state.trail = ["root"];
  const res = await ctx.next();
  if (res.status === 101) return res; // a WebSocket upgrade must be returned as is
  const headers = new Headers(res.headers);
  headers.set("x-trail", ctx.state.trail.join(">"));
  headers.set("x-destination", ctx.destination);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}
