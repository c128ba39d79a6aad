/**
 * The embedded dev chain of `deno task start` (no `CHAIN_RPC_URL`, `CHAIN` not off): one
 * anvil per app process, started by the launcher (scripts/start.ts) before the server, on
 * 127.0.0.1 and a free port, with the demo activity generator (lib/wallet/demo.ts) mining
 * a block every 2 s. The server's isolates get its URL (`CHAIN_RPC_URL`, and
 * `CHAIN_WS_URL` for instant wake-ups); whichever isolate holds the `chain` lease talks to
 * it, and another takes over if that one dies — the node itself lives as long as the
 * launcher, not as long as an isolate. Stopping ends the generator, then anvil (SIGTERM,
 * SIGKILL after 2 s, pipes drained).
 *
 * A new anvil is a new chain (a new genesis hash): the listener then discards what it
 * stored of the previous one (lib/wallet/ingestor.ts).
 *
 * @module
 */
import { startAnvil } from "./anvil.ts";
import { DEMO_ADDRESS, runDemoActivity } from "./demo.ts";
import type { WalletLog } from "./ingestor.ts";

/** A running embedded chain. */
export interface EmbeddedChain {
  /** The anvil's HTTP URL. */
  url: string;
  /** The variables to start the server with. */
  env: Record<string, string>;
  /** Stops the generator and anvil. Idempotent. */
  stop(): Promise<void>;
}

/** Starts anvil and the demo activity. */
export async function startEmbeddedChain(
  log: WalletLog,
  env: { get(name: string): string | undefined } = Deno.env,
): Promise<EmbeddedChain> {
  const anvil = await startAnvil();
  const stopping = new AbortController();
  const activity = runDemoActivity({ url: anvil.url, signal: stopping.signal, log });
  anvil.status.then((s) => {
    if (!stopping.signal.aborted) {
      log.error("the embedded chain (anvil) exited: the wallet shows reconnecting", {
        code: s.code,
      });
    }
  });
  const defaults: Record<string, string> = { CHAIN_POLL_MS: "500", CHAIN_START_BLOCK: "0" };
  const chosen = Object.fromEntries(Object.entries(defaults).filter(([k]) => !env.get(k)));
  let stopped: Promise<void> | undefined;
  return {
    url: anvil.url,
    env: {
      ...chosen,
      CHAIN_RPC_URL: anvil.url,
      CHAIN_WS_URL: anvil.url.replace(/^http/, "ws"),
      CHAIN_EMBEDDED: "1",
      CHAIN_DEMO_ADDRESS: DEMO_ADDRESS,
    },
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        await activity;
        await anvil.stop(2_000);
      })();
      return stopped;
    },
  };
}
