import type { RouteContext } from "$fresh/server.ts";

// deno-lint-ignore require-await
export default async function AsyncRedirect(_req: Request, _ctx: RouteContext) {
  return new Response(null, { status: 303, headers: { location: "/about" } });
}
