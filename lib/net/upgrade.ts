/**
 * WebSocket upgrades of requests the connection guard read itself (lib/net/guard.ts).
 * The guard registers each such request here before calling the app's handler; the
 * gateway adapter asks {@linkcode guardedUpgrade} and, for those requests, accepts the
 * upgrade on the guard's {@linkcode ServerWebSocket} instead of `Deno.upgradeWebSocket`
 * (which only works for requests the runtime's HTTP server parsed).
 */
import type { ServerWebSocket } from "./ws_socket.ts";

/** What the app decides about a guarded upgrade request. */
export interface GuardedUpgrade {
  /**
   * Accepts the upgrade: returns the socket (open once the handler has returned and the
   * guard has written the 101) and the response the handler must return.
   */
  accept(options: { protocol?: string; maxMessageBytes: number }): {
    socket: ServerWebSocket;
    response: Response;
  };
}

const pending = new WeakMap<Request, GuardedUpgrade>();

/** Registers `req` as a guarded upgrade request (the guard does this). */
export function registerGuardedUpgrade(req: Request, upgrade: GuardedUpgrade): void {
  pending.set(req, upgrade);
}

/**
 * The guarded upgrade of `req`, or undefined when the runtime's server parsed it (then
 * use `Deno.upgradeWebSocket`). A request can be upgraded once.
 */
export function guardedUpgrade(req: Request): GuardedUpgrade | undefined {
  const upgrade = pending.get(req);
  pending.delete(req);
  return upgrade;
}
