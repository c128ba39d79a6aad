/**
 * The browser's watchlist: starred pairs as a signal, kept in `localStorage` for visitors
 * and on the server (`GET/PUT /api/watchlist`) for signed-in users. A star shows at once;
 * saves to the server go one at a time, the latest state last, and a failed save says so
 * instead of pretending.
 *
 * @module
 */
import { type ReadonlySignal, signal } from "@preact/signals";
import { MAX_WATCHLIST, parseWatchlist } from "../watchlist.ts";

/** Where the visitor's watchlist is kept in `localStorage`. */
export const WATCHLIST_STORAGE_KEY = "realtime:watchlist";

/** What the watchlist needs from the page. */
export interface WatchlistDeps {
  /** Signed in: the server keeps the list. */
  signedIn: boolean;
  /** `localStorage` (absent or throwing when storage is disabled: memory only). */
  storage?: Pick<Storage, "getItem" | "setItem">;
  /** `fetch` (same origin, with the session cookie). */
  fetch?: typeof fetch;
  /** The API's path. Default `/api/watchlist`. */
  url?: string;
}

/** State of the list against where it is kept. */
export type WatchlistStatus = "local" | "loading" | "synced" | "saving" | "error";

/** A watchlist. */
export interface Watchlist {
  /** The starred pairs. */
  readonly symbols: ReadonlySignal<ReadonlySet<string>>;
  readonly status: ReadonlySignal<WatchlistStatus>;
  /** Why the last load or save failed (plain words), or null. */
  readonly error: ReadonlySignal<string | null>;
  /** Stars or unstars `symbol`; false when the list is full. */
  toggle(symbol: string): boolean;
  /** Loads the list from where it is kept. */
  load(): Promise<void>;
  /** Resolves when no save is running or due. */
  idle(): Promise<void>;
}

/** Creates the page's watchlist (call {@linkcode Watchlist.load} once mounted). */
export function createWatchlist(deps: WatchlistDeps): Watchlist {
  const url = deps.url ?? "/api/watchlist";
  const doFetch = deps.fetch ?? ((input, init) => fetch(input, init));
  const symbols = signal<ReadonlySet<string>>(new Set());
  const status = signal<WatchlistStatus>(deps.signedIn ? "loading" : "local");
  const error = signal<string | null>(null);
  let saving: Promise<void> | null = null;
  let dirty = false;

  const readLocal = (): string[] => {
    try {
      const text = deps.storage?.getItem(WATCHLIST_STORAGE_KEY);
      if (!text || text.length > 4_096) return [];
      const parsed = parseWatchlist(JSON.parse(text));
      return parsed.ok ? parsed.symbols : [];
    } catch {
      return [];
    }
  };
  const writeLocal = (list: string[]) => {
    try {
      deps.storage?.setItem(WATCHLIST_STORAGE_KEY, JSON.stringify(list));
    } catch {
      // Storage full or disabled: the list lives for this page only.
    }
  };

  const saveOnce = async () => {
    const list = [...symbols.peek()];
    status.value = "saving";
    try {
      const res = await doFetch(url, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ symbols: list }),
      });
      if (!res.ok) {
        const body = await res.json().catch(() => null) as
          | { error?: { message?: unknown } }
          | null;
        const message = typeof body?.error?.message === "string"
          ? body.error.message.slice(0, 200)
          : `status ${res.status}`;
        throw new Error(message);
      }
      await res.body?.cancel();
      error.value = null;
      status.value = "synced";
    } catch (e) {
      error.value = `Your watchlist could not be saved (${e instanceof Error ? e.message : e})`;
      status.value = "error";
    }
  };

  const save = () => {
    if (!deps.signedIn) {
      writeLocal([...symbols.peek()]);
      return;
    }
    dirty = true;
    if (saving) return;
    saving = (async () => {
      while (dirty) {
        dirty = false;
        await saveOnce();
      }
      saving = null;
    })();
  };

  return {
    symbols,
    status,
    error,
    toggle(symbol) {
      const next = new Set(symbols.peek());
      if (next.has(symbol)) next.delete(symbol);
      else if (next.size >= MAX_WATCHLIST) {
        error.value = `A watchlist holds at most ${MAX_WATCHLIST} pairs`;
        return false;
      } else next.add(symbol);
      symbols.value = next;
      save();
      return true;
    },
    async load() {
      if (!deps.signedIn) {
        symbols.value = new Set(readLocal());
        status.value = "local";
        return;
      }
      status.value = "loading";
      try {
        const res = await doFetch(url, { headers: { accept: "application/json" } });
        if (!res.ok) throw new Error(`status ${res.status}`);
        const parsed = parseWatchlist(await res.json());
        if (!parsed.ok) throw new Error(parsed.message);
        // A star clicked while loading wins over what the server had.
        if (!dirty && !saving) symbols.value = new Set(parsed.symbols);
        status.value = "synced";
        error.value = null;
      } catch (e) {
        error.value = `Your watchlist could not be loaded (${e instanceof Error ? e.message : e})`;
        status.value = "error";
      }
    },
    async idle() {
      while (saving) await saving;
    },
  };
}
