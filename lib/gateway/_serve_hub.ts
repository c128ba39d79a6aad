/**
 * For tests and benches: a hub on real sockets — `Deno.serve` on a random loopback port,
 * every upgrade admitted through {@linkcode createAdmission} with a fixed principal (or a
 * given `authenticateUpgrade`).
 */
import type { AuthResult, Principal } from "../auth/types.ts";
import { createAdmission } from "./admission.ts";
import { acceptUpgrade } from "./deno_adapter.ts";
import type { Hub } from "./hub.ts";

/** A served hub. */
export interface ServedHub {
  /** `ws://127.0.0.1:<port>/`. */
  url: string;
  port: number;
  /** Stops accepting and resolves once the server has finished. */
  close(): Promise<void>;
}

/** Serves `hub`; upgrades are authenticated as `who` (a principal, or a function of the request). */
export function serveHub(
  hub: Hub,
  who: Principal | ((req: Request) => Promise<AuthResult>),
): ServedHub {
  const admit = createAdmission({
    hub,
    auth: {
      authenticateUpgrade: typeof who === "function"
        ? who
        : () => Promise.resolve({ ok: true, principal: who }),
      verifyAccessToken: () => Promise.reject(new Error("unused")),
    },
  });
  const ac = new AbortController();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", signal: ac.signal, onListen() {} },
    (req, info) => acceptUpgrade(req, info.remoteAddr.hostname, hub, admit),
  );
  const port = server.addr.port;
  return {
    url: `ws://127.0.0.1:${port}/`,
    port,
    close() {
      ac.abort();
      return server.finished;
    },
  };
}
