import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { ActivityFeed } from "../components/wallet/ActivityFeed.tsx";
import { Balances } from "../components/wallet/Balances.tsx";
import { CopyButton } from "../components/wallet/CopyButton.tsx";
import { WatchForm } from "../components/wallet/WatchForm.tsx";
import { WatchList } from "../components/wallet/WatchList.tsx";
import { useConnection } from "../lib/client/signals.ts";
import { useLocale, useNow } from "../lib/prices/ui/hooks.ts";
import type { WalletView, WatchedAddress } from "../lib/wallet/types.ts";
import { formatInteger } from "../lib/wallet/ui/format.ts";
import { pageWalletApi, useWalletFeed } from "../lib/wallet/ui/hooks.ts";
import type { LiveFeed } from "../lib/wallet/ui/live.ts";

/** Props of {@linkcode WalletApp}. */
export interface WalletAppProps {
  /** The user's watched addresses, oldest first. */
  watched: WatchedAddress[];
  /** How many the server keeps per user. */
  max: number;
  /** The address shown first (`?address=`, else the first watched). */
  selected: string | null;
  /** Its first page, rendered by the server (null: read in the browser). */
  initial: WalletView | null;
  /** The transaction the page was opened for (`?tx=`, lower case). */
  tx: string | null;
  /** False when no chain is configured: addresses can be managed, no activity shown. */
  chainOn: boolean;
}

function ReorgNotice({ live, locale }: { live: LiveFeed; locale: string }) {
  const reorg = live.feed.value?.reorg;
  if (!reorg) return null;
  const range = reorg.from === reorg.to
    ? `block ${formatInteger(reorg.from, locale)}`
    : `blocks ${formatInteger(reorg.from, locale)}–${formatInteger(reorg.to, locale)}`;
  return (
    <div class="reorg-banner" role="alert" data-testid="wallet-reorg">
      <p>
        <strong>Reorganization:</strong> {range}{" "}
        carrying this address's activity left the chain (depth{" "}
        {reorg.depth}). Their transactions are marked reorged; balances were read again.
      </p>
      <button type="button" class="chip-button" onClick={() => live.dismissReorg()}>
        Dismiss
      </button>
    </div>
  );
}

function AddressView(
  { live, entry, tx }: { live: LiveFeed; entry: WatchedAddress | undefined; tx: string | null },
) {
  const locale = useLocale().value;
  const now = useNow();
  const conn = useConnection();
  const feed = live.feed.value;
  const status = live.status.value;
  const scrolled = useRef<string | null>(null);
  // Opened for a transaction (a notification's link): bring its row into view once.
  useEffect(() => {
    if (!tx || !feed || scrolled.current === live.address) return;
    const row = document.querySelector(`[data-tx="${tx}"]`);
    if (row) {
      scrolled.current = live.address;
      row.scrollIntoView({ block: "center" });
    }
  }, [feed, tx]);
  const paused = conn !== null && conn.state.value !== "connected";
  return (
    <div class="wallet-main" data-testid="wallet-view" data-address={live.address}>
      <header class="panel waddr">
        <div class="waddr-text">
          <h2>{entry?.label || "Address"}</h2>
          <p class="waddr-line">
            <code data-testid="address">{live.address}</code>
            <CopyButton text={live.address} what="address" />
          </p>
        </div>
        <span
          class="badge waddr-live"
          data-state={status === "live" && !paused ? "live" : status}
          data-testid="feed-state"
        >
          {paused
            ? "paused"
            : status === "live"
            ? "live"
            : status === "loading"
            ? "loading…"
            : "error"}
        </span>
      </header>
      <ReorgNotice live={live} locale={locale} />
      {live.error.value && (
        <div class="form-error wallet-error" role="alert" data-testid="feed-error">
          {live.error.value}{" "}
          <button
            type="button"
            class="link-button"
            onClick={() =>
              live.reload()}
          >
            Try again
          </button>
        </div>
      )}
      {feed
        ? (
          <div class="wallet-detail">
            <Balances balances={feed.balances} block={feed.balancesBlock} locale={locale} />
            <ActivityFeed
              feed={feed}
              locale={locale}
              now={now}
              highlightTx={tx}
              loadingMore={live.loadingMore.value}
              moreError={live.moreError.value}
              onLoadMore={() => void live.loadMore()}
            />
          </div>
        )
        : status === "loading" && <p class="muted" role="status">Loading activity…</p>}
    </div>
  );
}

/**
 * The signed-in wallet page: the watched addresses (add, pick, remove) and, for the one
 * picked, its balances and activity kept live from `wallet:{address}`.
 */
export default function WalletApp(props: WalletAppProps) {
  const watched = useSignal(props.watched);
  const selected = useSignal(props.selected);
  const tx = useSignal(props.tx);
  const live = useWalletFeed(props.chainOn ? selected.value : null, props.initial);
  const list = watched.value;
  const pick = (address: string | null) => {
    if (address !== selected.value) tx.value = null;
    selected.value = address;
    const url = address ? `/wallet?address=${address}` : "/wallet";
    history.replaceState(null, "", url);
  };
  const onWatch = async (address: string, label: string) => {
    const added = await pageWalletApi().watch(address, label);
    const rest = watched.value.filter((a) => a.address !== added.address);
    const at = watched.value.findIndex((a) => a.address === added.address);
    watched.value = at >= 0
      ? watched.value.map((a) => a.address === added.address ? added : a)
      : [...rest, added];
    pick(added.address);
  };
  const onRemove = async (address: string) => {
    await pageWalletApi().unwatch(address);
    const rest = watched.value.filter((a) => a.address !== address);
    watched.value = rest;
    if (selected.value === address) pick(rest[0]?.address ?? null);
  };
  return (
    <div class="wallet-grid">
      <aside class="wallet-side">
        <WatchList
          addresses={list}
          selected={selected.value}
          onSelect={pick}
          onRemove={onRemove}
        />
        <WatchForm count={list.length} max={props.max} onWatch={onWatch} />
      </aside>
      {selected.value === null
        ? (
          <div class="wallet-main">
            <p class="panel muted wallet-none">
              Add an address to follow its transactions, token and NFT transfers and balances live.
            </p>
          </div>
        )
        : !props.chainOn
        ? (
          <div class="wallet-main">
            <p class="panel notice wallet-none" data-testid="chain-off">
              No chain is configured, so there is no activity to show. Set{" "}
              <code>CHAIN_RPC_URL</code>, or run <code>deno task start</code>{" "}
              for the embedded dev chain.
            </p>
          </div>
        )
        : live && (
          <AddressView
            key={live.address}
            live={live}
            entry={list.find((a) => a.address === selected.value)}
            tx={tx.value}
          />
        )}
    </div>
  );
}
