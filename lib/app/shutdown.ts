/**
 * Graceful shutdown on SIGINT / SIGTERM: close every socket with 4000 "server restarting"
 * (clients reconnect with backoff), stop producers and watchers, close KV, exit.
 *
 * Under `deno serve --parallel` every isolate receives the signal and runs this; the
 * first `Deno.exit` ends the process, so each isolate waits `graceMs` after its own
 * clean-up to let the others finish theirs.
 */
import { CloseCode } from "../protocol/codes.ts";
import type { AppServices } from "./services.ts";

/** Options for {@linkcode installShutdown}. */
export interface ShutdownOptions {
  /** Wait after this isolate's clean-up before exiting, ms. Default 300. */
  graceMs?: number;
  /** Exit anyway after this long, ms. Default 5 000. */
  deadlineMs?: number;
}

/** Installs the signal handlers for this isolate. */
export function installShutdown(services: AppServices, options: ShutdownOptions = {}): void {
  const graceMs = options.graceMs ?? 300;
  const deadlineMs = options.deadlineMs ?? 5_000;
  let started = false;
  const onSignal = (signal: Deno.Signal) => {
    if (started) return;
    started = true;
    services.log.info("shutting down", { signal, connections: services.hub.stats().connections });
    setTimeout(() => Deno.exit(0), deadlineMs);
    services.hub.closeAll(CloseCode.ServerRestart, "server restarting");
    services.close()
      .catch((err) => services.log.error("shutdown clean-up failed", { err }))
      .finally(() => setTimeout(() => Deno.exit(0), graceMs));
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(signal, () => onSignal(signal));
    } catch {
      // SIGTERM cannot be listened to on Windows; SIGINT still works there.
    }
  }
}
