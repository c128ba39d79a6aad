/**
 * How the wallet page writes amounts, money, hashes, ages and statuses — through `Intl`
 * in the page's locale (the server renders en-US, the browser switches to its own).
 * Amounts are decimal strings and are formatted as strings (`Intl.NumberFormat` reads
 * them exactly), never through a float, so 18-decimal values and 78-digit token amounts
 * keep their digits.
 *
 * @module
 */
import type { ActivityItem, BalanceEntry, Direction, TokenRef } from "../types.ts";

const numberFormats = new Map<string, Intl.NumberFormat>();
const MAX_CACHED = 100;

function numberFormat(locale: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let f = numberFormats.get(key);
  if (!f) {
    try {
      f = new Intl.NumberFormat(locale, options);
    } catch {
      f = new Intl.NumberFormat("en-US", options);
    }
    if (numberFormats.size >= MAX_CACHED) numberFormats.clear();
    numberFormats.set(key, f);
  }
  return f;
}

/** `Intl.NumberFormat.format` of a decimal string (exact: no float in between). */
function formatDecimal(f: Intl.NumberFormat, amount: string): string {
  return f.format(amount as unknown as number);
}

/**
 * An amount in its units, grouped in the locale: `1,234.5`, `0.000123`. At most
 * `maxFraction` decimals (default 6); a non-zero amount smaller than that shows as
 * `<0.000001`, never as 0.
 */
export function formatAmount(amount: string, locale: string, maxFraction = 6): string {
  if (!/^-?[0-9]+(\.[0-9]+)?$/.test(amount)) return amount;
  const f = numberFormat(locale, { maximumFractionDigits: maxFraction });
  const text = formatDecimal(f, amount);
  if (/[1-9]/.test(amount) && !/[1-9]/.test(text)) {
    const least = `0.${"0".repeat(Math.max(0, maxFraction - 1))}1`;
    return `${amount.startsWith("-") ? "-" : ""}<${formatDecimal(f, least)}`;
  }
  return text;
}

/** A USD value: `$1,234.56` (2 decimals; under a cent: `<$0.01`). */
export function formatUsd(value: number, locale: string): string {
  if (!Number.isFinite(value)) return "—";
  const f = numberFormat(locale, {
    style: "currency",
    currency: "USD",
    currencyDisplay: "narrowSymbol",
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
  });
  if (value > 0 && value < 0.005) return `<${f.format(0.01)}`;
  return f.format(value);
}

/** An integer (block numbers, counts) in the locale: `19,234,567`. */
export function formatInteger(value: number, locale: string): string {
  return numberFormat(locale, { maximumFractionDigits: 0 }).format(value);
}

/** `0x1234…abcd`: the start and end of a hash or address, as explorers shorten them. */
export function shortHex(hex: string, head = 6, tail = 4): string {
  return hex.length <= head + tail + 1 ? hex : `${hex.slice(0, head)}…${hex.slice(-tail)}`;
}

/** A token's name to show: its symbol, else "Unknown token". */
export function tokenLabel(token: TokenRef | undefined, nativeSymbol = "ETH"): string {
  if (!token) return nativeSymbol;
  return token.symbol?.trim() || "Unknown token";
}

/** What moved, as a phrase: `1.5 ETH`, `2.5 DEMO`, `DNFT #12`, `12345 raw units of …`. */
export function itemAmount(item: ActivityItem, locale: string, nativeSymbol = "ETH"): string {
  if (item.kind === "erc721") {
    const id = item.tokenId ?? "?";
    return `${tokenLabel(item.token)} #${id.length > 12 ? shortHex(id, 6, 4) : id}`;
  }
  const symbol = item.kind === "native" ? nativeSymbol : tokenLabel(item.token);
  const amount = item.amount ?? item.raw ?? "0";
  if (item.token?.unknown || (item.kind === "erc20" && item.token?.decimals === null)) {
    return `${formatAmount(amount, locale, 0)} raw units of ${symbol}`;
  }
  return `${formatAmount(amount, locale)} ${symbol}`;
}

/** A balance's amount with its unit: `10,001.5 ETH`, `3 DNFT`. */
export function balanceAmount(balance: BalanceEntry, locale: string): string {
  const symbol = balance.symbol?.trim() || "Unknown token";
  if (balance.kind === "erc721") return `${formatAmount(balance.amount, locale, 0)} ${symbol}`;
  if (balance.unknown || balance.decimals === null) {
    return `${formatAmount(balance.amount, locale, 0)} raw units`;
  }
  return `${formatAmount(balance.amount, locale)} ${symbol}`;
}

/** The direction's short word, as explorers badge it. */
export const DIRECTION_TEXT: Record<Direction, string> = { in: "IN", out: "OUT", self: "SELF" };

/** What a status chip says, and the tone it is drawn in. */
export interface StatusText {
  text: string;
  /** `wait` (pending, counting), `ok`, `bad` (failed, dropped, reorged), `muted` (replaced). */
  tone: "wait" | "ok" | "bad" | "muted";
  /** A longer explanation (the chip's `title` and its screen-reader text). */
  detail: string;
}

const REPLACED: Record<NonNullable<ActivityItem["reason"]>, string> = {
  repriced: "sped up",
  cancelled: "cancelled",
  replaced: "replaced",
};

/** The chip of an item's status, with `required` confirmations for `confirmed`. */
export function statusText(item: ActivityItem, required: number): StatusText {
  switch (item.status) {
    case "pending":
      return { text: "pending", tone: "wait", detail: "Seen in the mempool, not yet in a block" };
    case "included": {
      const n = Math.min(item.confirmations, required);
      return {
        text: `${n} / ${required} confirmations`,
        tone: "wait",
        detail: `In block ${item.blockNumber ?? "?"}; confirmed at ${required} confirmations`,
      };
    }
    case "confirmed":
      return {
        text: "confirmed",
        tone: "ok",
        detail: `${item.confirmations} confirmations (${required} required)`,
      };
    case "failed":
      return {
        text: "failed",
        tone: "bad",
        detail: item.revertReason
          ? `Reverted: ${item.revertReason}`
          : "Reverted (the node gave no reason)",
      };
    case "dropped":
      return { text: "dropped", tone: "bad", detail: "Left the mempool without being included" };
    case "replaced": {
      const why = item.reason ? REPLACED[item.reason] : "replaced";
      return {
        text: why === "replaced" ? "replaced" : `replaced · ${why}`,
        tone: "muted",
        detail: "Another transaction with the same sender and nonce was included",
      };
    }
    case "reorged":
      return {
        text: "reorged",
        tone: "bad",
        detail: "Its block left the canonical chain (a reorganization)",
      };
  }
}

const relativeFormats = new Map<string, Intl.RelativeTimeFormat>();

function relative(locale: string): Intl.RelativeTimeFormat {
  let f = relativeFormats.get(locale);
  if (!f) {
    try {
      f = new Intl.RelativeTimeFormat(locale, { numeric: "auto", style: "short" });
    } catch {
      f = new Intl.RelativeTimeFormat("en", { numeric: "auto", style: "short" });
    }
    relativeFormats.set(locale, f);
  }
  return f;
}

/**
 * How long ago `ts` was at `now`: "now" under 2 s, then seconds, minutes, hours, days (a
 * block explorer's granularity). A time in the future (clock skew) is "now".
 */
export function formatAgo(ts: number, now: number, locale: string): string {
  const s = Math.floor(Math.max(0, now - ts) / 1_000);
  const f = relative(locale);
  if (s < 2) return f.format(0, "second");
  if (s < 60) return f.format(-s, "second");
  if (s < 3_600) return f.format(-Math.floor(s / 60), "minute");
  if (s < 86_400) return f.format(-Math.floor(s / 3_600), "hour");
  return f.format(-Math.floor(s / 86_400), "day");
}

/** A duration in ms as `850 ms`, `1.2 s`, `3 min`. */
export function formatLag(ms: number, locale: string): string {
  const abs = Math.max(0, ms);
  if (abs < 1_000) return `${formatInteger(Math.round(abs), locale)} ms`;
  if (abs < 60_000) {
    return `${numberFormat(locale, { maximumFractionDigits: 1 }).format(abs / 1_000)} s`;
  }
  return `${formatInteger(Math.round(abs / 60_000), locale)} min`;
}
