/** The gateway's status document (`GET /api/websocket/status`). */
import type { Hub, HubStats } from "./hub.ts";
import type { GatewayLimits } from "./limits.ts";

/** What `GET /api/websocket/status` returns. */
export interface GatewayStatus extends HubStats {
  isolate: string;
  startedAt: string;
  uptimeMs: number;
  /** Heartbeat round trips of open connections, ms. */
  rtt: { p50: number | null; p99: number | null; measured: number };
  limits: GatewayLimits;
}

/** Builds the status of `hub` for this isolate. */
export function gatewayStatus(
  hub: Hub,
  info: { isolateId: string; startedAt: number; now: number },
): GatewayStatus {
  return {
    isolate: info.isolateId,
    startedAt: new Date(info.startedAt).toISOString(),
    uptimeMs: info.now - info.startedAt,
    ...hub.stats(),
    rtt: hub.rttSummary(),
    limits: { ...hub.limits },
  };
}
