/** The status document of one isolate (`GET /api/websocket/status`). */
import type { Hub } from "../gateway/hub.ts";
import type { Namespaces } from "../gateway/namespaces.ts";
import { gatewayStatus } from "../gateway/status.ts";
import type { BusEngine } from "../bus/engine.ts";
import { readNoFileLimit } from "../net/rlimit.ts";

/** What the status document is built from. */
export interface StatusSources {
  hub: Hub;
  bus: BusEngine;
  namespaces: Namespaces;
  isolateId: string;
  startedAt: number;
}

let connectionStatus: (() => Record<string, unknown>) | undefined;

/**
 * Registers where the connection level of this isolate is read from: the guard, when it
 * serves this isolate (`deno task start`, lib/app/net_guard.ts). Without it the status
 * says `guard: false` (plain `deno serve`, Deno Deploy) and the open-file limits.
 */
export function setConnectionStatus(source: () => Record<string, unknown>): void {
  connectionStatus = source;
}

/** Gateway figures, connection level, bus counters and history bounds of this isolate. */
export function isolateStatus(s: StatusSources, now = Date.now()): Record<string, unknown> {
  return {
    ...gatewayStatus(s.hub, { isolateId: s.isolateId, startedAt: s.startedAt, now }),
    net: connectionStatus?.() ?? { guard: false, openFiles: readNoFileLimit() },
    bus: { ...s.bus.stats(), lagSamples: s.hub.metrics.busLagSeconds.count() },
    history: Object.fromEntries(
      Object.entries(s.namespaces).map(([name, policy]) => [name, policy.history]),
    ),
  };
}
