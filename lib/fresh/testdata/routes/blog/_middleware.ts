import type { MiddlewareHandler } from "$fresh/server.ts";
import type { State } from "../../shared.ts";

const first: MiddlewareHandler<State> = (_req, ctx) => {
  ctx.state.trail.push("blog1");
  return ctx.next();
};

const second: MiddlewareHandler<State> = (_req, ctx) => {
  ctx.state.trail.push("blog2");
  return ctx.next();
};

export const handler = [first, second];
