import type { Handlers } from "$fresh/server.ts";
import type { AppState } from "../lib/app/context.ts";

/** `POST /logout`: ends the session, clears the cookie, 303 to `/` (GET gets 405). */
export const handler: Handlers<unknown, AppState> = {
  async POST(req, ctx) {
    const { auth } = ctx.state.services;
    await req.body?.cancel();
    const refused = auth.checkOrigin(req);
    if (refused) {
      return new Response(`${refused.message}\n`, {
        status: refused.status,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
    return new Response(null, {
      status: 303,
      headers: { location: "/", "set-cookie": await auth.logout(req), "cache-control": "no-store" },
    });
  },
};
