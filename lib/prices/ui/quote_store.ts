/**
 * The browser's live quotes: one signal per symbol, written at most once per animation
 * frame. Quotes arriving between two frames wait in a pending map (the newest per symbol
 * wins), and one frame writes them all inside a `batch`, so a burst of ticks costs one
 * paint and a tick of one symbol touches only that symbol's signal.
 *
 * Pure of the DOM: the frame scheduler is passed in (`requestAnimationFrame` in the
 * browser, a manual one in tests).
 *
 * @module
 */
import { batch, type ReadonlySignal, type Signal, signal } from "@preact/signals";
import type { Quote } from "../types.ts";
import { parseQuote } from "./validate.ts";

/** Schedules `callback` before the next paint; returns nothing (cancelled by ignoring). */
export type FrameScheduler = (callback: () => void) => void;

/** Per-symbol quotes, written once per frame. */
export interface QuoteStore {
  /** The symbols this store follows, in the order given. */
  readonly symbols: readonly string[];
  /** The quote signal of `symbol` (undefined for a symbol not followed). */
  quote(symbol: string): ReadonlySignal<Quote | undefined> | undefined;
  /**
   * Takes an incoming quote (any shape: validated here). A quote for an unknown symbol, a
   * malformed one, or one older than what the symbol already has is dropped and counted.
   * The signal changes on the next frame.
   */
  push(data: unknown): void;
  /** Writes the pending quotes now (the frame callback). */
  flush(): void;
  /** Quotes dropped so far (malformed, unknown symbol, or out of date). */
  readonly dropped: ReadonlySignal<number>;
  /** Frames that wrote at least one quote (a measure of paints caused). */
  readonly frames: ReadonlySignal<number>;
}

/** The browser's frame scheduler, or a 16 ms timer where there is none. */
export const browserFrame: FrameScheduler = (callback) => {
  if (typeof requestAnimationFrame === "function") requestAnimationFrame(() => callback());
  else setTimeout(callback, 16);
};

/**
 * A store over `symbols`, starting from `initial` (the server-rendered quotes, so the
 * first paint is not empty).
 */
export function createQuoteStore(
  symbols: readonly string[],
  initial: Readonly<Record<string, Quote | undefined>>,
  schedule: FrameScheduler = browserFrame,
): QuoteStore {
  const signals = new Map<string, Signal<Quote | undefined>>();
  for (const s of symbols) signals.set(s, signal(initial[s]));
  const pending = new Map<string, Quote>();
  const dropped = signal(0);
  const frames = signal(0);
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    if (pending.size === 0) return;
    const writes = [...pending];
    pending.clear();
    batch(() => {
      for (const [symbol, q] of writes) {
        const target = signals.get(symbol)!;
        if (!target.peek() || q.ts >= target.peek()!.ts) target.value = q;
      }
      frames.value++;
    });
  };

  return {
    symbols,
    quote: (symbol) => signals.get(symbol),
    push(data) {
      const q = parseQuote(data);
      const target = q ? signals.get(q.symbol) : undefined;
      const current = q ? pending.get(q.symbol) ?? target?.peek() : undefined;
      if (!q || !target || (current && q.ts < current.ts)) {
        dropped.value++;
        return;
      }
      pending.set(q.symbol, q);
      if (!scheduled) {
        scheduled = true;
        schedule(flush);
      }
    },
    flush,
    dropped,
    frames,
  };
}
