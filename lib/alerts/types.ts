/** The alert-rule contract shared by the engine, the HTTP API and the islands (docs/ALERTS.md). */

export type PriceCondition =
  | { kind: "crosses_above"; symbol: string; level: number }
  | { kind: "crosses_below"; symbol: string; level: number }
  | { kind: "above"; symbol: string; level: number }
  | { kind: "below"; symbol: string; level: number }
  | { kind: "change_pct"; symbol: string; window: "5m" | "1h" | "24h"; pct: number };

export type WalletCondition =
  | { kind: "incoming_transfer"; address: string; minAmount: number; asset?: string }
  | { kind: "tx_status"; address: string; status: "confirmed" | "failed" | "replaced" }
  | { kind: "reorg"; address: string };

export type AlertCondition = PriceCondition | WalletCondition;

/** One rule. Times are ms since the epoch. */
export interface AlertRule {
  id: string;
  userId: string;
  name?: string;
  condition: AlertCondition;
  trigger: { mode: "once" } | { mode: "every"; cooldownMs: number };
  /** Hysteresis band as a fraction of the level (default 0.001 = 0.1 %). */
  hysteresis: number;
  priority: "low" | "normal" | "high" | "critical";
  /** Paused rules are kept but not evaluated; a `once` rule pauses itself after firing. */
  enabled: boolean;
  expiresAt?: number;
  createdAt: number;
  lastFiredAt?: number;
  firedCount: number;
}

/**
 * A wallet event the alert engine consumes (lib/alerts/wallet.ts, `onWalletEvent`). The
 * wallet monitor — or the adapter `walletEventsFromMessage` over the `wallet:{address}`
 * bus messages — produces them; each is applied to each matching rule exactly once, by
 * `id` (default: derived from the fields, see `walletEventKey`). Addresses are EIP-55
 * checksummed, hashes `0x…` lower case, amounts decimal strings in the asset's units.
 */
export type WalletAlertEvent =
  | {
    kind: "incoming_transfer";
    address: string;
    amount: string;
    /** The asset's symbol (`ETH`, `USDC`), or the token contract when it has none. */
    asset: string;
    /** The token contract (checksummed); absent for the native asset. */
    token?: string;
    txHash: string;
    /** Same-origin path of the activity (e.g. `/wallet?address=0x…&tx=0x…`). */
    link: string;
    /** The activity item's id (`{txHash}:tx`, `{txHash}:{log}`), when known. */
    itemId?: string;
    id?: string;
  }
  | {
    kind: "tx_status";
    address: string;
    txHash: string;
    status: "confirmed" | "failed" | "replaced";
    link?: string;
    id?: string;
  }
  | {
    kind: "reorg";
    address: string;
    depth: number;
    /** The first replaced block, when known. */
    fromBlock?: number;
    link?: string;
    id?: string;
  };
