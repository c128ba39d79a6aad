/**
 * Preact hooks of the price pages, over the page's one client (lib/client/signals.ts):
 * live quotes into a {@linkcode QuoteStore}, a channel's latest value, the browser's
 * locale and a shared clock for ages. Islands use these and never touch sockets.
 *
 * @module
 */
import { type ReadonlySignal, signal, useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { pageClient, usePageVisible } from "../../client/signals.ts";
import { DEFAULT_LOCALE } from "../format.ts";
import type { Quote } from "../types.ts";
import { priceChannel } from "../types.ts";
import { createQuoteStore, type QuoteStore } from "./quote_store.ts";

/** The locale numbers are shown in: the server's until the page runs, then the browser's. */
const locale = signal(DEFAULT_LOCALE);
let localeSet = false;

function browserLocale(): string {
  const wanted = (typeof navigator !== "undefined" &&
    (navigator.languages?.[0] ?? navigator.language)) || DEFAULT_LOCALE;
  try {
    return Intl.NumberFormat.supportedLocalesOf([wanted])[0] ?? DEFAULT_LOCALE;
  } catch {
    return DEFAULT_LOCALE;
  }
}

/**
 * The locale signal. Hydration renders the server's locale (the same text as the HTML);
 * right after, it becomes the browser's and every number re-renders once.
 */
export function useLocale(): ReadonlySignal<string> {
  useEffect(() => {
    if (localeSet) return;
    localeSet = true;
    locale.value = browserLocale();
  }, []);
  return locale;
}

const clock = signal(Date.now());
let clockUsers = 0;
let clockTimer: ReturnType<typeof setInterval> | undefined;

/** A clock signal shared by the page, ticking every second while a component uses it. */
export function useNow(): ReadonlySignal<number> {
  useEffect(() => {
    if (clockUsers++ === 0) {
      clock.value = Date.now();
      clockTimer = setInterval(() => clock.value = Date.now(), 1_000);
    }
    return () => {
      if (--clockUsers === 0) clearInterval(clockTimer);
    };
  }, []);
  return clock;
}

/**
 * Live quotes of `symbols` in a {@linkcode QuoteStore} (one signal per symbol, written at
 * most once per frame), starting from the server-rendered `initial` quotes. The
 * subscriptions pause while the tab is hidden and resume — with a fresh snapshot — when
 * it is shown.
 */
export function useQuoteStore(
  symbols: readonly string[],
  initial: Readonly<Record<string, Quote | undefined>>,
): QuoteStore {
  const ref = useRef<QuoteStore | null>(null);
  if (ref.current === null) ref.current = createQuoteStore(symbols, initial);
  const store = ref.current;
  const visible = usePageVisible();
  useEffect(() => {
    if (!visible) return;
    const { client } = pageClient();
    const subs = store.symbols.map((symbol) =>
      client.subscribe<unknown>(priceChannel(symbol), {
        onMessage: (data) => store.push(data),
        onSnapshot: (data) => store.push(data),
      })
    );
    return () => subs.forEach((s) => s.unsubscribe());
  }, [visible]);
  return store;
}

/** A latest-value channel as signals. */
export interface ChannelValue<T> {
  /** The newest valid value (starts as the server-rendered one, or null). */
  value: ReadonlySignal<T | null>;
  /** `live` once subscribed; `error` when refused (e.g. the channel does not exist). */
  status: ReadonlySignal<"subscribing" | "live" | "error">;
  /** Messages that failed `parse`. */
  rejected: ReadonlySignal<number>;
}

/**
 * Follows a latest-value channel: every message and snapshot that `parse` accepts
 * replaces the value. While the tab is hidden the subscription pauses. Pass a stable
 * `parse` (a module-level function).
 */
export function useChannelValue<T>(
  channel: string | null,
  parse: (data: unknown) => T | null,
  initial: T | null = null,
  onValue?: (value: T) => void,
): ChannelValue<T> {
  const value = useSignal<T | null>(initial);
  const status = useSignal<"subscribing" | "live" | "error">("subscribing");
  const rejected = useSignal(0);
  const listener = useRef(onValue);
  listener.current = onValue;
  const visible = usePageVisible();
  useEffect(() => {
    if (!visible || !channel) return;
    const { client } = pageClient();
    const take = (data: unknown) => {
      const parsed = parse(data);
      if (parsed === null) {
        rejected.value++;
        return;
      }
      value.value = parsed;
      listener.current?.(parsed);
    };
    const sub = client.subscribe<unknown>(channel, {
      onMessage: take,
      onSnapshot: take,
      onSubscribed: () => status.value = "live",
      onError: () => status.value = "error",
    });
    return () => sub.unsubscribe();
  }, [channel, visible]);
  return { value, status, rejected };
}
