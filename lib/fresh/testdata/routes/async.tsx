import type { RouteContext } from "$fresh/server.ts";

export default async function AsyncPage(_req: Request, ctx: RouteContext) {
  const value = await Promise.resolve(42);
  return <p class="async">async {value} at {ctx.url.pathname}</p>;
}
