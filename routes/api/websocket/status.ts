import type { Handlers } from "$fresh/server.ts";
import { clusterTotals, readReports } from "../../../lib/app/cluster.ts";
import type { AppState } from "../../../lib/app/context.ts";
import { isolateStatus } from "../../../lib/app/status.ts";
import { leaseHolder } from "../../../lib/bus/lease.ts";
import { MARKET_LEASE } from "../../../lib/prices/producer.ts";

/**
 * `GET /api/websocket/status`: this isolate's gateway figures, bus counters, history
 * bounds and lease holders as JSON; `?scope=cluster`: every isolate's latest report
 * (written every 5 s) and their totals.
 */
export const handler: Handlers<unknown, AppState> = {
  async GET(req, ctx) {
    const services = ctx.state.services;
    const headers = { "cache-control": "no-store" };
    if (new URL(req.url).searchParams.get("scope") === "cluster") {
      const reports = await readReports(services.kv);
      return Response.json({
        isolates: reports.map((r) => ({ ...r.status, reportedAt: new Date(r.at).toISOString() })),
        totals: clusterTotals(reports),
      }, { headers });
    }
    return Response.json({
      ...isolateStatus(services),
      leases: { [MARKET_LEASE]: await leaseHolder(services.kv, MARKET_LEASE) },
    }, { headers });
  },
};
