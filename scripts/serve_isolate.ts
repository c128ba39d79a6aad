/**
 * One isolate of `scripts/serve.ts`: builds the app's services and handler (by importing
 * `main.ts`, exactly what `deno serve` would run) and serves them through the connection
 * guard. Runs as a worker (several isolates) or in the launcher's own thread (one).
 */
import { serveGuarded } from "../lib/app/net_guard.ts";
import { appServices } from "../lib/app/context.ts";
import type { GuardedHandler } from "../lib/net/guard.ts";

/** What the launcher tells an isolate. */
export interface IsolateInit {
  hostname: string;
  port: number;
  isolates: number;
}

/** What an isolate tells the launcher. */
export type IsolateNote =
  | { ready: true; port: number }
  | { error: string }
  | { stopped: true };

/** Starts the app in this isolate and serves it; `notify` receives the notes above. */
export async function runIsolate(
  init: IsolateInit,
  notify: (note: IsolateNote) => void,
): Promise<void> {
  let server;
  try {
    // main.ts starts the services (and installs the shutdown handlers) as under deno serve.
    const app = (await import("../main.ts")).default as { fetch: GuardedHandler };
    const services = appServices();
    server = serveGuarded({
      handler: app.fetch,
      services,
      hostnames: [init.hostname],
      port: init.port,
      isolates: init.isolates,
    });
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      // Stop accepting; main.ts's shutdown closes the sockets and the services.
      server!.close().catch(() => {});
      services.close().finally(() => notify({ stopped: true }));
    };
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      try {
        Deno.addSignalListener(signal, stop);
      } catch {
        // No SIGTERM on Windows.
      }
    }
  } catch (err) {
    notify({ error: err instanceof Error ? err.message : String(err) });
    return;
  }
  notify({ ready: true, port: server.port });
}

type WorkerScope = {
  onmessage: ((e: MessageEvent<IsolateInit>) => void) | null;
  postMessage(note: IsolateNote): void;
};

// As a worker: wait for the launcher's init message.
const scope = globalThis as unknown as WorkerScope & { DedicatedWorkerGlobalScope?: unknown };
if (typeof scope.DedicatedWorkerGlobalScope === "function") {
  scope.onmessage = (e) => {
    scope.onmessage = null;
    runIsolate(e.data, (note) => scope.postMessage(note));
  };
}
