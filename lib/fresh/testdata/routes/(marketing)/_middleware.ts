import type { FreshContext } from "$fresh/server.ts";
import type { State } from "../../shared.ts";

export function handler(_req: Request, ctx: FreshContext<State>): Promise<Response> {
  ctx.state.trail.push("marketing");
  return ctx.next();
}
