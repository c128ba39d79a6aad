import type { BalanceEntry } from "../../lib/wallet/types.ts";
import { balanceAmount, formatInteger, formatUsd, shortHex } from "../../lib/wallet/ui/format.ts";
import { totalUsd } from "../../lib/wallet/ui/feed.ts";

/** Props of {@linkcode Balances}. */
export interface BalancesProps {
  balances: BalanceEntry[];
  /** The block they were read at. */
  block: number | null;
  locale: string;
}

function assetName(b: BalanceEntry): string {
  if (b.asset === "native") return "Ether";
  if (b.unknown || !b.symbol) return `Unknown token ${shortHex(b.asset)}`;
  return b.kind === "erc721" ? `${b.symbol} (NFT)` : b.symbol;
}

/** The address's balances — native first, then tokens — with their USD value and total. */
export function Balances({ balances, block, locale }: BalancesProps) {
  const total = totalUsd(balances);
  return (
    <section class="panel wbal" aria-labelledby="wbal-title">
      <div class="wpanel-head">
        <h2 id="wbal-title">Balances</h2>
        {block !== null && (
          <span class="muted wpanel-note">at block {formatInteger(block, locale)}</span>
        )}
      </div>
      <p class="wbal-total">
        <span class="muted">Value</span>{" "}
        <strong data-testid="total-usd">{total === null ? "—" : formatUsd(total, locale)}</strong>
      </p>
      {balances.length === 0
        ? <p class="muted">Not read yet: balances show after the next block.</p>
        : (
          <table class="mini-table wbal-table">
            <thead>
              <tr>
                <th scope="col">Asset</th>
                <th scope="col" class="num">Amount</th>
                <th scope="col" class="num">USD</th>
              </tr>
            </thead>
            <tbody>
              {balances.map((b) => (
                <tr key={b.asset} data-asset={b.asset} data-testid="balance">
                  <th scope="row" title={b.asset === "native" ? undefined : b.asset}>
                    {assetName(b)}
                  </th>
                  <td class="num" data-testid="balance-amount">{balanceAmount(b, locale)}</td>
                  <td class="num">{b.usd === undefined ? "—" : formatUsd(b.usd, locale)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
    </section>
  );
}
