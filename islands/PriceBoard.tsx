import { type ReadonlySignal, type Signal, signal, useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { BoardRow } from "../components/prices/BoardRow.tsx";
import { useConnection } from "../lib/client/signals.ts";
import { nextOrder, type SortKey, type SortOrder, visibleSymbols } from "../lib/prices/ui/board.ts";
import { fetchCandles } from "../lib/prices/ui/candles_api.ts";
import { useLocale, useNow, useQuoteStore } from "../lib/prices/ui/hooks.ts";
import { createWatchlist, type Watchlist } from "../lib/prices/ui/watchlist_client.ts";
import type { Candle, Quote } from "../lib/prices/types.ts";

/** Props: the symbols to show and their server-rendered quotes (no empty first paint). */
export interface PriceBoardProps {
  symbols: string[];
  initial: Record<string, Quote>;
  /** Signed in: the watchlist is kept in the account, else in this browser. */
  signedIn?: boolean;
}

const DAY_MS = 86_400_000;
/** Largest markets first, as traders expect to find them. */
const DEFAULT_ORDER: SortOrder = { key: "volume", dir: "desc" };
/** How often the sparklines' candles are read again. */
const SPARK_REFRESH_MS = 10 * 60_000;
/** Fewer 1 h candles than this: the sparkline uses the last {@linkcode FALLBACK_MINUTES} of 1 m. */
const MIN_HOURS = 6;
const FALLBACK_MINUTES = 180;

/**
 * Candles for each row's sparkline: 1 h over the last 24 h, or 1 m over the last 3 h
 * while fewer hours exist (null until loaded or when not available).
 */
function useSparklines(
  symbols: readonly string[],
): Record<string, ReadonlySignal<Candle[] | null>> {
  const ref = useRef<Record<string, Signal<Candle[] | null>> | null>(null);
  if (ref.current === null) {
    ref.current = {};
    for (const s of symbols) ref.current[s] = signal<Candle[] | null>(null);
  }
  const map = ref.current;
  useEffect(() => {
    const ac = new AbortController();
    const load = () => {
      const to = Date.now();
      for (const s of symbols.slice(0, 50)) {
        fetchCandles(s, "1h", { from: to - DAY_MS, to, signal: ac.signal }).then(async (list) => {
          // A young market has few hours yet: its last hours of minutes say more.
          if (list && list.length < MIN_HOURS) {
            const from = to - FALLBACK_MINUTES * 60_000;
            list = await fetchCandles(s, "1m", { from, to, signal: ac.signal }) ?? list;
          }
          if (list && !ac.signal.aborted) map[s].value = list;
        });
      }
    };
    load();
    const timer = setInterval(load, SPARK_REFRESH_MS);
    return () => {
      ac.abort();
      clearInterval(timer);
    };
  }, []);
  return map;
}

function useWatchlist(signedIn: boolean): Watchlist {
  const ref = useRef<Watchlist | null>(null);
  if (ref.current === null) {
    let storage: Storage | undefined;
    try {
      storage = globalThis.localStorage;
    } catch {
      storage = undefined;
    }
    ref.current = createWatchlist({ signedIn, storage });
  }
  useEffect(() => {
    ref.current!.load();
  }, []);
  return ref.current;
}

const COLUMNS: { key: SortKey; label: string; class: string }[] = [
  { key: "name", label: "Name", class: "col-name" },
  { key: "price", label: "Price", class: "num" },
  { key: "change", label: "24h", class: "num" },
];

function SortHeader(
  { column, order, onSort }: {
    column: { key: SortKey; label: string; class: string };
    order: SortOrder | null;
    onSort(key: SortKey): void;
  },
) {
  const active = order?.key === column.key;
  const sort = active ? (order!.dir === "asc" ? "ascending" : "descending") : undefined;
  return (
    <th scope="col" class={`${column.class} sortable`} aria-sort={sort} data-sort={column.key}>
      <button type="button" onClick={() => onSort(column.key)}>
        {column.label}
        <span class="sort-mark" aria-hidden="true">
          {active ? (order!.dir === "asc" ? "▲" : "▼") : "↕"}
        </span>
      </button>
    </th>
  );
}

/**
 * The live board: one row per pair, fed by `prices:{SYMBOL}` (one signal per pair, at
 * most one paint per frame), sortable by name, price, change and volume, filtered by
 * text and by the watchlist.
 */
export default function PriceBoard({ symbols, initial, signedIn = false }: PriceBoardProps) {
  const store = useQuoteStore(symbols, initial);
  const locale = useLocale();
  const now = useNow();
  const conn = useConnection();
  const watchlist = useWatchlist(signedIn);
  const sparks = useSparklines(symbols);
  const order = useSignal<SortOrder | null>(DEFAULT_ORDER);
  const filter = useSignal("");
  const onlyWatched = useSignal(false);
  const watched = watchlist.symbols.value;
  // The order is taken from the quotes now (peek): it changes on a click or a filter,
  // never under the pointer on a tick.
  const rows = visibleSymbols(symbols, (s) => store.quote(s)?.peek(), {
    order: order.value,
    filter: filter.value,
    watched,
    onlyWatched: onlyWatched.value,
  });
  // Before the page script runs (server render) the board counts as live.
  const live = !conn || conn.state.value === "connected";
  const onSort = (key: SortKey) => order.value = nextOrder(order.value, key);
  const saveNote = watchlist.status.value === "error"
    ? watchlist.error.value
    : signedIn
    ? "Watchlist saved to your account"
    : "Watchlist kept in this browser";
  return (
    <div class="board-wrap">
      <div class="board-tools">
        <input
          type="search"
          class="board-filter"
          placeholder="Filter pairs"
          aria-label="Filter pairs"
          maxLength={40}
          value={filter.value}
          onInput={(e) => filter.value = (e.currentTarget as HTMLInputElement).value}
        />
        <div class="board-tabs" role="group" aria-label="Show">
          <button
            type="button"
            aria-pressed={!onlyWatched.value}
            onClick={() => onlyWatched.value = false}
          >
            All <span class="count">{symbols.length}</span>
          </button>
          <button
            type="button"
            aria-pressed={onlyWatched.value}
            data-testid="watchlist-tab"
            onClick={() => onlyWatched.value = true}
          >
            <span aria-hidden="true">★</span> Watchlist <span class="count">{watched.size}</span>
          </button>
        </div>
        <span
          class={`board-note${watchlist.status.value === "error" ? " notice" : ""}`}
          role={watchlist.status.value === "error" ? "alert" : undefined}
          data-testid="watchlist-status"
          data-state={watchlist.status.value}
        >
          {saveNote}
        </span>
      </div>
      {!live && (
        <p class="board-paused" role="status" data-testid="board-paused">
          Connection lost: prices are paused and may be out of date.
        </p>
      )}
      <table class="board" aria-label="Live prices" data-live={live ? "true" : "false"}>
        <thead>
          <tr>
            <th scope="col" class="col-star">
              <span class="sr-only">Watchlist</span>
            </th>
            {COLUMNS.map((c) => (
              <SortHeader key={c.key} column={c} order={order.value} onSort={onSort} />
            ))}
            <th scope="col" class="num col-range">24h high / low</th>
            <SortHeader
              column={{ key: "volume", label: "Volume 24h", class: "num col-vol" }}
              order={order.value}
              onSort={onSort}
            />
            <th scope="col" class="col-spark">Trend</th>
            <th scope="col" class="num col-age">Updated</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((s) => (
            <BoardRow
              key={s}
              symbol={s}
              quote={store.quote(s)!}
              locale={locale}
              now={now}
              candles={sparks[s]}
              starred={watched.has(s)}
              onStar={(symbol) => watchlist.toggle(symbol)}
            />
          ))}
          {rows.length === 0 && (
            <tr class="board-empty">
              <td colSpan={8}>
                {onlyWatched.value && watched.size === 0
                  ? "Your watchlist is empty: star a pair to add it."
                  : `No pair matches “${filter.value.trim()}”.`}
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
