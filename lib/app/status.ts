/** The status document of one isolate (`GET /api/websocket/status`). */
import type { Hub } from "../gateway/hub.ts";
import type { Namespaces } from "../gateway/namespaces.ts";
import { gatewayStatus } from "../gateway/status.ts";
import type { BusEngine } from "../bus/engine.ts";

/** What the status document is built from. */
export interface StatusSources {
  hub: Hub;
  bus: BusEngine;
  namespaces: Namespaces;
  isolateId: string;
  startedAt: number;
}

/** Gateway figures, bus counters and history bounds of this isolate. */
export function isolateStatus(s: StatusSources, now = Date.now()): Record<string, unknown> {
  return {
    ...gatewayStatus(s.hub, { isolateId: s.isolateId, startedAt: s.startedAt, now }),
    bus: { ...s.bus.stats(), lagSamples: s.hub.metrics.busLagSeconds.count() },
    history: Object.fromEntries(
      Object.entries(s.namespaces).map(([name, policy]) => [name, policy.history]),
    ),
  };
}
