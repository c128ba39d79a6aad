import type { Handlers } from "$fresh/server.ts";
import type { AppState } from "../lib/app/context.ts";

/** `GET /metrics`: Prometheus text exposition of this isolate's gateway metrics. */
export const handler: Handlers<unknown, AppState> = {
  GET(_req, ctx) {
    return new Response(ctx.state.services.hub.metrics.registry.render(), {
      headers: {
        "content-type": "text/plain; version=0.0.4; charset=utf-8",
        "cache-control": "no-store",
      },
    });
  },
};
