/** Prometheus metrics of the connection guard, registered into the gateway's registry. */
import type { Counter, Registry } from "../gateway/metrics.ts";

/** The guard's counters (its gauges are read from the guard at scrape time). */
export interface NetMetrics {
  /** Connections closed at accept, by reason (capacity, sockets_per_ip, pending_per_ip, descriptors). */
  refused: Counter;
  /** Connections closed by a deadline, by phase (header, keepalive, request, frame, handler). */
  timeouts: Counter;
  /** `accept()` failures, by error (descriptors = EMFILE / ENFILE, other). */
  acceptErrors: Counter;
  /** WebSocket connections closed for a protocol violation, by close code. */
  violations: Counter;
}

/** What the gauges read. */
export interface NetGauges {
  sockets(): number;
  pending(): number;
  partialFrameBytes(): number;
  descriptorsExhausted(): number;
}

/** Registers the guard's metrics in `registry`. */
export function createNetMetrics(registry: Registry, gauges: NetGauges): NetMetrics {
  registry.gauge(
    "realtime_net_sockets",
    "Open client TCP connections of this isolate (HTTP, WebSocket, closing).",
    gauges.sockets,
  );
  registry.gauge(
    "realtime_net_sockets_pending",
    "Client connections that are not WebSockets (no request yet, or HTTP).",
    gauges.pending,
  );
  registry.gauge(
    "realtime_net_partial_frame_bytes",
    "Bytes held for unfinished WebSocket frames, all sockets together.",
    gauges.partialFrameBytes,
  );
  registry.gauge(
    "realtime_net_descriptors_exhausted",
    "1 while accept() fails for lack of file descriptors (new connections refused).",
    gauges.descriptorsExhausted,
  );
  return {
    refused: registry.counter(
      "realtime_net_refused_total",
      "Connections closed at accept, by reason.",
    ),
    timeouts: registry.counter(
      "realtime_net_timeouts_total",
      "Connections closed by a deadline, by phase.",
    ),
    acceptErrors: registry.counter(
      "realtime_net_accept_errors_total",
      "accept() failures, by error (descriptors = the open-file limit was reached).",
    ),
    violations: registry.counter(
      "realtime_net_ws_violations_total",
      "WebSocket connections closed for a protocol violation, by close code.",
    ),
  };
}
