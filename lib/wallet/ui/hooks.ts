/**
 * Preact hooks of the wallet page over the page's one client (lib/client/signals.ts):
 * one watched address kept live ({@linkcode useWalletFeed}) and the chain's status
 * ({@linkcode useChainStatus}). Islands use these and never touch sockets.
 *
 * @module
 */
import type { ReadonlySignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { pageClient } from "../../client/signals.ts";
import { useChannelValue } from "../../prices/ui/hooks.ts";
import { CHAIN_STATUS_CHANNEL, type ChainStatus, type WalletView } from "../types.ts";
import { createWalletApi, type WalletApi } from "./api.ts";
import { createLiveFeed, type LiveFeed } from "./live.ts";
import { parseChainStatus } from "./wire.ts";

let api: WalletApi | null = null;

/** The page's wallet API client. */
export function pageWalletApi(): WalletApi {
  return api ??= createWalletApi();
}

/**
 * The live feed of `address` (null: none). `initial` is the server-rendered first page
 * (used when it is of this address). A new address makes a new feed; the old one is
 * unsubscribed.
 */
export function useWalletFeed(address: string | null, initial: WalletView | null): LiveFeed | null {
  const ref = useRef<LiveFeed | null>(null);
  if (address === null) ref.current = null;
  else if (ref.current?.address !== address) {
    ref.current = createLiveFeed({
      address,
      initial,
      api: { view: (a, o) => pageWalletApi().view(a, o) },
      // Bound lazily: the page's client exists in the browser only.
      source: {
        subscribe: (channel, handlers) => pageClient().client.subscribe(channel, handlers),
      },
    });
  }
  const live = ref.current;
  useEffect(() => {
    if (!live) return;
    live.start();
    return () => live.dispose();
  }, [live]);
  return live;
}

/**
 * The chain's status: the server-rendered one (what `GET /api/chain` answers), then every
 * value of `chain:status` (its snapshot comes on every subscribe, so a reconnect brings
 * the current one).
 */
export function useChainStatus(initial: ChainStatus | null): {
  status: ReadonlySignal<ChainStatus | null>;
  live: ReadonlySignal<"subscribing" | "live" | "error">;
} {
  const channel = useChannelValue(CHAIN_STATUS_CHANNEL, parseChainStatus, initial);
  return { status: channel.value, live: channel.status };
}
