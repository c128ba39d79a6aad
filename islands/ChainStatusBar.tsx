import { useSignal } from "@preact/signals";
import type { ChainStatus, ReorgInfo } from "../lib/wallet/types.ts";
import { useChainStatus } from "../lib/wallet/ui/hooks.ts";
import { formatAgo, formatInteger, formatLag } from "../lib/wallet/ui/format.ts";
import { useLocale, useNow } from "../lib/prices/ui/hooks.ts";

/** Props of {@linkcode ChainStatusBar}. */
export interface ChainStatusBarProps {
  /** The status when the page was rendered (what `GET /api/chain` answers). */
  initial: ChainStatus | null;
}

const RPC_TEXT = {
  connected: "connected",
  reconnecting: "reconnecting",
  off: "off",
} as const;

function ReorgBanner(
  { reorg, locale, onDismiss }: { reorg: ReorgInfo; locale: string; onDismiss(): void },
) {
  const blocks = reorg.from === reorg.to
    ? `block ${formatInteger(reorg.from, locale)} was`
    : `blocks ${formatInteger(reorg.from, locale)}–${formatInteger(reorg.to, locale)} were`;
  return (
    <div class="reorg-banner" role="alert" data-testid="reorg-banner">
      <p>
        <strong>Chain reorganization:</strong> {blocks} replaced (depth {reorg.depth}
        {reorg.deep ? ", deeper than the kept window" : ""}), back to block{" "}
        {formatInteger(reorg.ancestor.number, locale)}. Transactions from the replaced blocks show
        as reorged until the new chain carries them.
      </p>
      <button type="button" class="chip-button" onClick={onDismiss}>Dismiss</button>
    </div>
  );
}

/**
 * The chain the wallet follows: its connection (connected / reconnecting, with why),
 * chain id, head and finalized blocks, lag and reorganizations — live from
 * `chain:status` — and a banner when a reorganization happens while the page is open.
 */
export default function ChainStatusBar({ initial }: ChainStatusBarProps) {
  const { status } = useChainStatus(initial);
  const locale = useLocale().value;
  const now = useNow();
  // Reorganizations from before the page opened are facts in the bar, not news.
  const announcedAfter = useSignal(initial?.lastReorg?.at ?? 0);
  const s = status.value;
  if (!s || s.rpc === "off") {
    return (
      <div class="chain-bar" data-rpc="off" data-testid="chain-bar">
        <span class="chain-state">
          <span class="dot" aria-hidden="true"></span>
          <span role="status">No chain</span>
        </span>
        <span class="muted">
          No node is configured: set <code>CHAIN_RPC_URL</code>, or run <code>deno task start</code>
          {" "}
          for the embedded dev chain.
        </span>
      </div>
    );
  }
  const reorg = s.lastReorg && s.lastReorg.at > announcedAfter.value ? s.lastReorg : null;
  const num = (n: number | null) => n === null ? "—" : formatInteger(n, locale);
  return (
    <>
      <div class="chain-bar" data-rpc={s.rpc} data-testid="chain-bar">
        <span class="chain-state">
          <span class="dot" aria-hidden="true"></span>
          <span role="status" data-testid="chain-rpc">Chain {RPC_TEXT[s.rpc]}</span>
        </span>
        <dl class="chain-facts">
          <div>
            <dt>Chain ID</dt>
            <dd>{s.chainId ?? "—"}</dd>
          </div>
          <div>
            <dt>Head</dt>
            <dd data-testid="chain-head" data-head={s.head ?? ""}>{num(s.head)}</dd>
          </div>
          <div>
            <dt>Finalized</dt>
            <dd>{num(s.finalized)}</dd>
          </div>
          {s.lagMs !== null && (
            <div>
              <dt>Lag</dt>
              <dd>{formatLag(s.lagMs, locale)}</dd>
            </div>
          )}
          <div>
            <dt>Reorgs</dt>
            <dd data-testid="chain-reorgs">
              {formatInteger(s.reorgs, locale)}
              {s.lastReorg && (
                <span class="muted">
                  {` · last ${formatAgo(s.lastReorg.at, now.value, locale)}`}
                </span>
              )}
            </dd>
          </div>
          <div>
            <dt>Mempool</dt>
            <dd>{s.mempool === "none" ? "not visible" : s.mempool}</dd>
          </div>
        </dl>
        {s.rpc === "reconnecting" && s.error && (
          <p class="chain-error" data-testid="chain-error">{s.error}</p>
        )}
      </div>
      {reorg && (
        <ReorgBanner
          reorg={reorg}
          locale={locale}
          onDismiss={() => announcedAfter.value = reorg.at}
        />
      )}
    </>
  );
}
