import type { Handlers } from "$fresh/server.ts";
import type { AppState } from "../../../lib/app/context.ts";
import { leaseHolder } from "../../../lib/bus/lease.ts";
import { gatewayStatus } from "../../../lib/gateway/status.ts";
import { MARKET_LEASE } from "../../../lib/prices/producer.ts";

/**
 * `GET /api/websocket/status`: this isolate's gateway figures, its bus counters and who
 * holds the producer leases, as JSON.
 */
export const handler: Handlers<unknown, AppState> = {
  async GET(_req, ctx) {
    const { hub, bus, kv, namespaces, isolateId, startedAt } = ctx.state.services;
    const lag = hub.metrics.busLagSeconds;
    return Response.json(
      {
        ...gatewayStatus(hub, { isolateId, startedAt, now: Date.now() }),
        bus: { ...bus.stats(), lagSamples: lag.count() },
        history: Object.fromEntries(
          Object.entries(namespaces).map(([name, policy]) => [name, policy.history]),
        ),
        leases: { [MARKET_LEASE]: await leaseHolder(kv, MARKET_LEASE) },
      },
      { headers: { "cache-control": "no-store" } },
    );
  },
};
