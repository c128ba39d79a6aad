import type { Handlers } from "$fresh/server.ts";

export const handler: Handlers = {
  GET(req) {
    return Response.json({ method: req.method, q: new URL(req.url).searchParams.get("q") });
  },
  async POST(req) {
    return Response.json({ method: req.method, body: await req.text() });
  },
};
