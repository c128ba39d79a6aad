/**
 * Serves one isolate's handler through the connection guard (lib/net/guard.ts): the
 * listener(s), the socket cap derived from the open-file limit, the guard's metrics in the
 * gateway registry, and its figures in `/api/websocket/status`. `scripts/serve.ts` runs
 * this in every isolate; tests run it in process (tests/_guarded_app.ts).
 */
import { ConnectionGuard, type GuardedHandler } from "../net/guard.ts";
import { autoMaxSockets, type NetLimits } from "../net/limits.ts";
import { createNetMetrics } from "../net/metrics.ts";
import { readNoFileLimit } from "../net/rlimit.ts";
import type { AppServices } from "./services.ts";
import { setConnectionStatus } from "./status.ts";

/** Options of {@linkcode serveGuarded}. */
export interface ServeGuardedOptions {
  handler: GuardedHandler;
  services: AppServices;
  /** Addresses to listen on (the same port on each). */
  hostnames: string[];
  /** 0 picks a free port (on the first hostname, then the same on the others). */
  port: number;
  /** Isolates sharing the port and the process's descriptors (`SO_REUSEPORT` when > 1). */
  isolates: number;
}

/** A running guarded server. */
export interface GuardedServer {
  guard: ConnectionGuard;
  port: number;
  limits: NetLimits;
  /** Stops accepting (open WebSockets stay until the hub closes them, unless `terminate`). */
  close(options?: { terminate?: boolean }): Promise<void>;
}

/** Listens and serves `handler` through a guard. */
export function serveGuarded(options: ServeGuardedOptions): GuardedServer {
  const { services, isolates } = options;
  const openFiles = readNoFileLimit();
  const limits: NetLimits = {
    ...services.config.net,
    maxSockets: services.config.net.maxSockets || autoMaxSockets(openFiles.soft, isolates),
  };
  // The gauges read the guard when scraped, after it exists.
  const metrics = createNetMetrics(services.hub.metrics.registry, {
    sockets: () => guard.stats().sockets,
    pending: () => guard.stats().pending,
    partialFrameBytes: () => guard.stats().partialFrameBytes,
    descriptorsExhausted: () => (guard.stats().descriptorsExhausted ? 1 : 0),
  });
  const guard = new ConnectionGuard({
    handler: options.handler,
    limits,
    log: services.log,
    metrics,
  });
  const listeners: Deno.TcpListener[] = [];
  let port = options.port;
  try {
    for (const hostname of options.hostnames) {
      const listener = isolates > 1
        ? Deno.listen({ hostname, port, reusePort: true } as Deno.TcpListenOptions)
        : Deno.listen({ hostname, port });
      listeners.push(listener);
      port = listener.addr.port;
    }
  } catch (err) {
    for (const l of listeners) l.close();
    throw err;
  }
  const serving = listeners.map((l) => guard.serve(l));
  setConnectionStatus(() => ({
    guard: true,
    openFiles: readNoFileLimit(),
    ...guard.stats(),
    limits,
  }));
  services.log.info("connection guard listening", {
    port,
    hostnames: options.hostnames,
    maxSockets: limits.maxSockets,
    openFiles,
  });
  return {
    guard,
    port,
    limits,
    async close(closeOptions) {
      await guard.close(closeOptions);
      await Promise.all(serving);
    },
  };
}
