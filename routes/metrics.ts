import type { Handlers } from "$fresh/server.ts";
import { mergeMetrics, readReports } from "../lib/app/cluster.ts";
import type { AppState } from "../lib/app/context.ts";

/**
 * `GET /metrics`: Prometheus text of this isolate's metrics; `?scope=cluster`: every
 * isolate's latest metrics (written every 5 s), each sample labelled with `isolate`.
 */
export const handler: Handlers<unknown, AppState> = {
  async GET(req, ctx) {
    const { hub, kv } = ctx.state.services;
    const text = new URL(req.url).searchParams.get("scope") === "cluster"
      ? mergeMetrics(await readReports(kv))
      : hub.metrics.registry.render();
    return new Response(text, {
      headers: {
        "content-type": "text/plain; version=0.0.4; charset=utf-8",
        "cache-control": "no-store",
      },
    });
  },
};
