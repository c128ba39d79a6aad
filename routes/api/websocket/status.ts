import type { Handlers } from "$fresh/server.ts";
import { clusterTotals, readReports } from "../../../lib/app/cluster.ts";
import type { AppState } from "../../../lib/app/context.ts";
import { isolateStatus } from "../../../lib/app/status.ts";
import { MARKET_LEASE } from "../../../lib/prices/producer.ts";
import { ALERTS_LEASE } from "../../../lib/alerts/engine.ts";

/**
 * `GET /api/websocket/status`: this isolate's gateway figures, bus counters, history
 * bounds, lease holders (on the cluster's engine), `cluster` (liveness, presence and
 * connection-slot counters of lib/cluster), and `notifications` (delivery counters, dead letters cluster-wide)
 * and `alerts` (this isolate's engine and wallet-event counters) as JSON; `?scope=cluster`: every isolate's latest report
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
    // The engine may be down or slow (that is when status matters most): every read of
    // it is bounded and answers `null` (unknown) instead of failing the whole document.
    const [market, alerts, notifications] = await Promise.all([
      bounded(services.cluster.leases.holder(MARKET_LEASE)),
      bounded(services.cluster.leases.holder(ALERTS_LEASE)),
      bounded(services.notifications.status()),
    ]);
    return Response.json({
      ...isolateStatus(services),
      leases: { [MARKET_LEASE]: market, [ALERTS_LEASE]: alerts },
      cluster: services.cluster.stats(),
      notifications,
      alerts: { engine: services.alerts.engine.stats(), wallet: services.alerts.wallet.stats() },
    }, { headers });
  },
};

/** `promise`'s value, or null when it fails or takes longer than `ms`. */
async function bounded<T>(promise: Promise<T>, ms = 1_000): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), ms));
  try {
    return await Promise.race([promise.catch(() => null), late]);
  } finally {
    clearTimeout(timer);
  }
}
