/**
 * The live cells of a price row and of the pair page. Each reads its own signals, so a
 * tick changes only the text nodes and classes of the cells whose value changed.
 */
import { effect, type ReadonlySignal, useComputed } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { formatAge, formatPct, formatPrice } from "../../lib/prices/format.ts";
import { sparkline, sparkValues } from "../../lib/prices/ui/sparkline.ts";
import type { Candle, Quote } from "../../lib/prices/types.ts";
import { Live, useLiveClass } from "./Live.tsx";

/** A quote signal (one symbol). */
export type QuoteSignal = ReadonlySignal<Quote | undefined>;

const FLASH_CLASSES = ["flash-up-a", "flash-up-b", "flash-down-a", "flash-down-b"];

/**
 * Flashes `ref`'s element when `value` moves (a class per direction, alternated so the
 * animation restarts) and writes ▲ / ▼ into `arrow`: a cue that is not only colour. The
 * stylesheet turns the flash off under `prefers-reduced-motion`; the arrow stays.
 */
export function useTickFlash(
  ref: { current: HTMLElement | null },
  arrow: { current: HTMLElement | null },
  value: ReadonlySignal<number | undefined>,
): void {
  useEffect(() => {
    let prev = value.peek();
    let flip = false;
    return effect(() => {
      const now = value.value;
      if (now === undefined || prev === undefined || now === prev) {
        prev = now;
        return;
      }
      const dir = now > prev ? "up" : "down";
      prev = now;
      const el = ref.current;
      if (!el) return;
      flip = !flip;
      el.classList.remove(...FLASH_CLASSES);
      el.classList.add(`flash-${dir}-${flip ? "a" : "b"}`);
      el.dataset.dir = dir;
      if (arrow.current) {
        arrow.current.textContent = dir === "up" ? "▲" : "▼";
        arrow.current.title = dir === "up" ? "last tick up" : "last tick down";
      }
    });
  }, [value]);
}

/** The live price with its flash and tick arrow, as a table cell (or a `div`). */
export function PriceCell(
  { quote, locale, currency, class: cls = "", tag = "td" }: {
    quote: QuoteSignal;
    locale: ReadonlySignal<string>;
    currency?: string;
    class?: string;
    tag?: "td" | "div";
  },
) {
  const cell = useRef<HTMLElement>(null);
  const arrow = useRef<HTMLSpanElement>(null);
  const text = useComputed(() => {
    const q = quote.value;
    return q ? formatPrice(q.price, { locale: locale.value, currency }) : "—";
  });
  const price = useComputed(() => quote.value?.price);
  useTickFlash(cell, arrow, price);
  const Tag = tag;
  return (
    <Tag ref={cell as never} class={`num price-cell ${cls}`}>
      <Live text={text} class="price" data-testid="price" />
      <span ref={arrow} class="tick" aria-hidden="true"></span>
    </Tag>
  );
}

/** `pos` / `neg` / `flat` for a change. */
export function changeClass(pct: number | undefined): string {
  return pct === undefined || pct === 0 ? "flat" : pct > 0 ? "pos" : "neg";
}

/** The 24 h change, coloured and signed (the sign is the cue besides colour). */
export function ChangeText(
  { quote, locale, tag = "span" }: {
    quote: QuoteSignal;
    locale: ReadonlySignal<string>;
    tag?: "span" | "td";
  },
) {
  const ref = useRef<HTMLElement>(null);
  const text = useComputed(() => {
    const q = quote.value;
    return q ? formatPct(q.change24hPct, { locale: locale.value }) : "—";
  });
  const cls = useComputed(() => changeClass(quote.value?.change24hPct));
  useLiveClass(ref, cls);
  const Tag = tag;
  return (
    <Tag ref={ref as never} class={`num change ${changeClass(quote.peek()?.change24hPct)}`}>
      <Live text={text} data-testid="change" />
    </Tag>
  );
}

/** Text from a quote field, formatted, live. */
export function QuoteText(
  { quote, format, class: cls, testid }: {
    quote: QuoteSignal;
    format: (q: Quote) => string;
    class?: string;
    testid?: string;
  },
) {
  const text = useComputed(() => {
    const q = quote.value;
    return q ? format(q) : "—";
  });
  return <Live text={text} class={cls} data-testid={testid} />;
}

/** How old the price is, ticking with the page clock. */
export function AgeText(
  { quote, now, locale }: {
    quote: QuoteSignal;
    now: ReadonlySignal<number>;
    locale: ReadonlySignal<string>;
  },
) {
  const text = useComputed(() => {
    const q = quote.value;
    return q ? formatAge(now.value - q.ts, { locale: locale.value }) : "—";
  });
  return <Live text={text} class="age" data-testid="age" />;
}

/** What a quote is based on, in brief. */
export type QuoteHealth = "none" | "ok" | "degraded" | "stale";

/** The quote's health: `stale` (no fresh venue), `degraded` (below quorum), or `ok`. */
export function healthOf(q: Quote | undefined): QuoteHealth {
  if (!q) return "none";
  if (q.stale) return "stale";
  if (q.degraded) return "degraded";
  return "ok";
}

/**
 * A badge when the price is not fully trustworthy: `stale` (no venue has a fresh price;
 * the last known one is shown) or `N source(s)` (below the quorum of two venues).
 * Nothing when all is well. Re-renders only when that changes.
 */
export function StatusBadge({ quote, full = false }: { quote: QuoteSignal; full?: boolean }) {
  const status = useComputed(() => {
    const q = quote.value;
    const health = healthOf(q);
    const total = q?.venues ? Object.keys(q.venues).length : 0;
    return `${health}:${q?.sourcesUsed ?? ""}:${total}`;
  });
  const [health, used, total] = status.value.split(":");
  if (health === "stale") {
    return (
      <span class="badge badge-stale" data-testid="badge" title="No venue has a fresh price">
        stale
      </span>
    );
  }
  if (health === "degraded") {
    const n = used === "" ? "1" : used;
    return (
      <span
        class="badge badge-warn"
        data-testid="badge"
        title="Fewer than 2 fresh venues agree: use with care"
      >
        {n} {n === "1" ? "source" : "sources"}
      </span>
    );
  }
  if (full && health === "ok" && used !== "") {
    return <span class="badge badge-ok" data-testid="badge">{used} sources</span>;
  }
  if (health === "ok" && used !== "" && Number(used) < Number(total)) {
    // Quorum holds, but not every venue that lists the pair is in the price.
    return (
      <span
        class="badge badge-ok"
        data-testid="badge"
        title={`The median of ${used} of the ${total} venues that list this pair`}
      >
        {used}/{total} sources
      </span>
    );
  }
  return null;
}

/** Sparkline box size (SVG user units = CSS pixels). */
const SPARK_W = 96;
const SPARK_H = 28;

/** How long a sparkline covers, in words: `24 h`, `3 h`, `40 min`. */
export function spanLabel(ms: number): string {
  const hours = Math.round(ms / 3_600_000);
  return hours >= 1 ? `${hours} h` : `${Math.max(1, Math.round(ms / 60_000))} min`;
}

/**
 * A sparkline from candles (1 h over 24 h, or the last hours of 1 m), with the live price
 * as its last point; an empty box of the same size until the candles are there (no
 * layout shift).
 */
export function Sparkline(
  { candles, quote }: { candles: ReadonlySignal<Candle[] | null>; quote: QuoteSignal },
) {
  const list = candles.value;
  const q = quote.value;
  const s = sparkline(sparkValues(list ?? [], q?.price), SPARK_W, SPARK_H, 2);
  const box = { viewBox: `0 0 ${SPARK_W} ${SPARK_H}`, width: SPARK_W, height: SPARK_H };
  if (!list || list.length === 0 || !s.d) {
    return <svg {...box} class="spark spark-empty" aria-hidden="true" />;
  }
  const span = spanLabel((q?.ts ?? list[list.length - 1].t) - list[0].t);
  const label = `Last ${span}: ${formatPct(s.changePct)}`;
  return (
    <svg {...box} class={`spark spark-${s.trend}`} role="img" aria-label={label}>
      <title>{label}</title>
      <path d={s.d} />
    </svg>
  );
}
