/**
 * Number formatting for prices, shared by server-rendered pages and islands. Everything
 * goes through `Intl` with a locale: the server renders with {@linkcode DEFAULT_LOCALE},
 * the browser switches to its own (`navigator.languages`) once the islands are running.
 * Formatters are cached per locale and shape (building one costs far more than using it).
 */

/** The locale of server-rendered numbers (the browser's replaces it after hydration). */
export const DEFAULT_LOCALE = "en-US";

/** Options shared by the formatters. */
export interface FormatOptions {
  /** BCP 47 locale; default {@linkcode DEFAULT_LOCALE}. */
  locale?: string;
}

/** Options of {@linkcode formatPrice}. */
export interface PriceFormatOptions extends FormatOptions {
  /** ISO 4217 code shown with the number (`$67,012.35`); none: the bare number. */
  currency?: string;
  /** Decimals to show instead of {@linkcode priceDecimals} of the value (0–12). */
  digits?: number;
}

const cache = new Map<string, Intl.NumberFormat>();
const MAX_CACHED = 200;

function formatter(locale: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let f = cache.get(key);
  if (!f) {
    try {
      f = new Intl.NumberFormat(locale, options);
    } catch {
      // An unknown locale or currency from the browser: fall back, never throw.
      f = new Intl.NumberFormat(DEFAULT_LOCALE, {
        ...options,
        currency: undefined,
        style: undefined,
      });
    }
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(key, f);
  }
  return f;
}

/**
 * Decimals that suit a price's size, as exchanges show them: 67,012.35 · 150.12 · 7.123 ·
 * 0.4523 · 0.01523; below 0.01, four significant digits.
 */
export function priceDecimals(price: number): number {
  const abs = Math.abs(price);
  if (abs >= 10) return 2;
  if (abs >= 1) return 3;
  if (abs >= 0.1) return 4;
  if (abs >= 0.01) return 5;
  if (abs === 0) return 2;
  return Math.min(12, 3 - Math.floor(Math.log10(abs)));
}

/** A price with precision that suits its size, in the currency when one is given. */
export function formatPrice(price: number, options: PriceFormatOptions = {}): string {
  if (!Number.isFinite(price)) return "—";
  const digits = options.digits === undefined
    ? priceDecimals(price)
    : Math.max(0, Math.min(12, Math.floor(options.digits)));
  const shape: Intl.NumberFormatOptions = {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  };
  if (options.currency) {
    shape.style = "currency";
    shape.currency = options.currency;
    shape.currencyDisplay = "narrowSymbol";
  }
  return formatter(options.locale ?? DEFAULT_LOCALE, shape).format(price);
}

/** A signed percentage: +1.23% / −0.40% (the locale's signs and spacing). */
export function formatPct(pct: number, options: FormatOptions = {}): string {
  if (!Number.isFinite(pct)) return "—";
  return formatter(options.locale ?? DEFAULT_LOCALE, {
    style: "percent",
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
    signDisplay: "exceptZero",
  }).format(pct / 100);
}

/** A compact amount: 1.2K, 3.4M, 5.6B (with the currency when given: $5.6B). */
export function formatVolume(volume: number, options: PriceFormatOptions = {}): string {
  if (!Number.isFinite(volume)) return "—";
  const shape: Intl.NumberFormatOptions = { notation: "compact", maximumFractionDigits: 1 };
  if (options.currency) {
    shape.style = "currency";
    shape.currency = options.currency;
    shape.currencyDisplay = "narrowSymbol";
  }
  return formatter(options.locale ?? DEFAULT_LOCALE, shape).format(volume);
}

/** A short age: `<1s`, `2.4s`, `12s`, `3m`, `2h` (the locale's unit spelling). */
export function formatAge(ms: number, options: FormatOptions = {}): string {
  if (!Number.isFinite(ms)) return "—";
  const locale = options.locale ?? DEFAULT_LOCALE;
  const age = Math.max(0, ms);
  const unit = (value: number, unit: string, digits = 0) =>
    formatter(locale, {
      style: "unit",
      unit,
      unitDisplay: "narrow",
      maximumFractionDigits: digits,
    }).format(value);
  if (age < 1_000) return `<${unit(1, "second")}`;
  if (age < 10_000) return unit(Math.floor(age / 100) / 10, "second", 1);
  if (age < 60_000) return unit(Math.floor(age / 1000), "second");
  if (age < 3_600_000) return unit(Math.floor(age / 60_000), "minute");
  if (age < 86_400_000) return unit(Math.floor(age / 3_600_000), "hour");
  return unit(Math.floor(age / 86_400_000), "day");
}

/** The quote currency of a pair (`BTC-USD` → `USD`), or `undefined` when it has none. */
export function quoteCurrency(symbol: string): string | undefined {
  const match = /-([A-Z]{3})$/.exec(symbol);
  return match ? match[1] : undefined;
}

/** The base asset of a pair (`BTC-USD` → `BTC`). */
export function baseAsset(symbol: string): string {
  const dash = symbol.indexOf("-");
  return dash > 0 ? symbol.slice(0, dash) : symbol;
}
