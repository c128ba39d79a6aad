/**
 * What clients see of the stored state: confirmations counted from the head, `confirmed`
 * derived from them, balances in units with a USD value where a price pair maps.
 *
 * @module
 */
import { formatAmount } from "./classify.ts";
import type { StoredBalances, StoredItem, TokenMeta } from "./store.ts";
import type { ActivityItem, BalanceEntry } from "./types.ts";

/** An item as clients see it at `head` (see {@linkcode ActivityItem.confirmations}). */
export function viewItem(item: StoredItem, head: number | null, required: number): ActivityItem {
  const { address: _address, seq: _seq, ...rest } = item;
  const inBlock = item.blockNumber !== null &&
    (item.status === "included" || item.status === "failed");
  const confirmations = inBlock && head !== null ? Math.max(0, head - item.blockNumber! + 1) : 0;
  const status = item.status === "included" && confirmations >= required
    ? "confirmed"
    : item.status;
  return { ...rest, status, confirmations };
}

/** The USD price of one unit of `symbol`, or null when no pair maps. */
export type UsdPrice = (symbol: string) => number | null;

function usdValue(
  amount: string,
  symbol: string | null,
  price: UsdPrice | undefined,
): number | undefined {
  if (!symbol || !price) return undefined;
  const p = price(symbol);
  if (p === null || !Number.isFinite(p)) return undefined;
  const value = Number(amount) * p;
  return Number.isFinite(value) ? Math.round(value * 100) / 100 : undefined;
}

/** Balances as clients see them: native first, then tokens by symbol. */
export function viewBalances(
  stored: StoredBalances,
  nativeSymbol: string,
  tokens: (address: string) => TokenMeta | undefined,
  price?: UsdPrice,
): BalanceEntry[] {
  const nativeAmount = formatAmount(BigInt(stored.native), 18);
  const out: BalanceEntry[] = [];
  const usd = usdValue(nativeAmount, nativeSymbol, price);
  out.push({
    asset: "native",
    kind: "native",
    symbol: nativeSymbol,
    amount: nativeAmount,
    raw: stored.native,
    decimals: 18,
    ...(usd === undefined ? {} : { usd }),
  });
  const entries: BalanceEntry[] = [];
  for (const [address, raw] of Object.entries(stored.tokens)) {
    if (raw === null) continue;
    const meta = tokens(address);
    const kind = meta?.kind ?? "erc20";
    const decimals = kind === "erc721" ? 0 : meta?.decimals ?? null;
    const amount = formatAmount(BigInt(raw), decimals);
    const unknown = !meta || meta.unknown;
    const value = kind === "erc20" && !unknown
      ? usdValue(amount, meta?.symbol ?? null, price)
      : undefined;
    entries.push({
      asset: address,
      kind,
      symbol: meta?.symbol ?? null,
      amount,
      raw,
      decimals,
      ...(value === undefined ? {} : { usd: value }),
      ...(unknown ? { unknown: true as const } : {}),
    });
  }
  entries.sort((a, b) =>
    (a.symbol ?? "~").localeCompare(b.symbol ?? "~") || a.asset.localeCompare(b.asset)
  );
  return [...out, ...entries];
}

/** The USD price from a price board's quotes (`{SYMBOL}-USD`), if any. */
export function boardPrice(
  quotes: Readonly<Record<string, { price: number } | undefined>> | undefined,
): UsdPrice {
  return (symbol) => {
    const quote = quotes?.[`${symbol.toUpperCase()}-USD`];
    return quote && Number.isFinite(quote.price) ? quote.price : null;
  };
}
