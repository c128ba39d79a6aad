/** Number formatting for prices, shared by server-rendered pages and islands. */

/** A price with precision that suits its size: 67,012.35 · 3.4521 · 0.152341. */
export function formatPrice(price: number): string {
  const digits = price >= 1000 ? 2 : price >= 1 ? 4 : 6;
  return price.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** A signed percentage: +1.23 % / −0.40 %. */
export function formatPct(pct: number): string {
  const sign = pct > 0 ? "+" : pct < 0 ? "−" : "";
  return `${sign}${Math.abs(pct).toFixed(2)} %`;
}

/** A compact volume: 1.2K, 3.4M, 5.6B. */
export function formatVolume(volume: number): string {
  return volume.toLocaleString("en-US", { notation: "compact", maximumFractionDigits: 1 });
}
