/**
 * Candles: 1-minute OHLCV built from trades, rolled up into 1-hour candles, kept in KV.
 *
 * - A trade in the open minute merges into it (out of order within the minute is fine:
 *   open and close follow the trades' times). A late trade of the previous minute merges
 *   into that closed candle (and its hour). Older trades are dropped and counted.
 * - KV: `["candle", symbol, "1m" | "1h", slot]` (lib/kv/keys.ts), `slot` = the interval's
 *   index modulo {@linkcode CANDLE_SLOTS} (25 h of 1 m, 31 d of 1 h), written with
 *   `expireIn`: the key space per symbol is bounded whatever happens to expiry.
 * - Writes stay cheap: the open candle (and its live hour) at most every `writeEveryMs`,
 *   closed and late-merged candles at the next flush; one atomic commit per flush.
 * - A new lease holder resumes the open minute from KV and rebuilds the current and
 *   previous hour from the stored minutes.
 */
import { candleKey, candlePrefix } from "../kv/keys.ts";
import { roundSig } from "./stats.ts";
import type { Candle, CandleInterval } from "./types.ts";

/** Length of each interval, ms. */
export const CANDLE_INTERVAL_MS: Readonly<Record<CandleInterval, number>> = {
  "1m": 60_000,
  "1h": 3_600_000,
};

/** How many candles of each interval are kept per symbol (25 h of 1 m, 31 d of 1 h). */
export const CANDLE_SLOTS: Readonly<Record<CandleInterval, number>> = {
  "1m": 1_500,
  "1h": 744,
};

/** Most candles one read returns. */
export const MAX_CANDLES = 1_500;

/** A candle as stored: with the times of its first and last trade (for open / close). */
export interface StoredCandle extends Candle {
  /** Time of the trade that set `o`. */
  ft: number;
  /** Time of the trade that set `c`. */
  lt: number;
}

/** What happened to one trade. */
export type CandleOutcome = "open" | "late" | "dropped";

/** Counters of a {@linkcode CandleBook}. */
export interface CandleStats {
  /** Trades merged into the previous (closed) minute. */
  late: number;
  /** Trades older than the previous minute, dropped. */
  dropped: number;
  /** Candle values written to KV. */
  writes: number;
  /** KV commits. */
  commits: number;
}

/** Options for {@linkcode createCandleBook}. */
export interface CandleBookOptions {
  kv: Deno.Kv;
  symbols: readonly string[];
  /** Clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Write the open candle at most this often, ms. Default 2 000. */
  writeEveryMs?: number;
}

/** Builds and stores the candles of every symbol (run by the price engine's lease holder). */
export interface CandleBook {
  /** Loads the open minute and rebuilds the current and previous hour from KV. */
  resume(): Promise<void>;
  /** Adds one trade (time `ts`, venue clock); trades of unknown symbols are dropped. */
  add(symbol: string, ts: number, price: number, size: number): CandleOutcome;
  /** Closes minutes that have ended by now. */
  roll(): void;
  /** The newest candle of `symbol`: the open one, else the last closed (null before any). */
  latest(symbol: string, interval?: CandleInterval): Candle | null;
  /** Symbols whose newest candle changed since the last call. */
  takeChanged(): string[];
  /** Writes what is due (everything pending with `force`). */
  flush(force?: boolean): Promise<void>;
  stats(): CandleStats;
}

const EXPIRE_MS: Readonly<Record<CandleInterval, number>> = {
  "1m": 26 * 3_600_000,
  "1h": 32 * 86_400_000,
};
const MINUTE = CANDLE_INTERVAL_MS["1m"];
const HOUR = CANDLE_INTERVAL_MS["1h"];
/** Mutations per atomic commit (KV allows 1 000). */
const COMMIT_CHUNK = 200;

function floorTo(t: number, ms: number): number {
  return Math.floor(t / ms) * ms;
}

function slotOf(t: number, interval: CandleInterval): number {
  const index = Math.floor(t / CANDLE_INTERVAL_MS[interval]);
  const n = CANDLE_SLOTS[interval];
  return ((index % n) + n) % n;
}

function fresh(t: number, ts: number, price: number, size: number): StoredCandle {
  return { t, o: price, h: price, l: price, c: price, v: size, n: 1, ft: ts, lt: ts };
}

function mergeTrade(c: StoredCandle, ts: number, price: number, size: number): void {
  if (price > c.h) c.h = price;
  if (price < c.l) c.l = price;
  c.v += size;
  c.n += 1;
  if (ts < c.ft) {
    c.o = price;
    c.ft = ts;
  }
  if (ts >= c.lt) {
    c.c = price;
    c.lt = ts;
  }
}

/** Merges `b` into `a` (same or enclosing interval). */
function mergeCandle(a: StoredCandle, b: StoredCandle): void {
  a.h = Math.max(a.h, b.h);
  a.l = Math.min(a.l, b.l);
  a.v += b.v;
  a.n += b.n;
  if (b.ft < a.ft) {
    a.o = b.o;
    a.ft = b.ft;
  }
  if (b.lt >= a.lt) {
    a.c = b.c;
    a.lt = b.lt;
  }
}

/** The public form of a stored candle (volume rounded). */
export function toCandle(c: StoredCandle): Candle {
  return { t: c.t, o: c.o, h: c.h, l: c.l, c: c.c, v: roundSig(c.v), n: c.n };
}

function isStoredCandle(value: unknown): value is StoredCandle {
  if (typeof value !== "object" || value === null) return false;
  const c = value as Record<string, unknown>;
  return ["t", "o", "h", "l", "c", "v", "n", "ft", "lt"].every((k) =>
    typeof c[k] === "number" && Number.isFinite(c[k])
  );
}

/**
 * The stored candles of `symbol` whose start lies in `[firstT, lastT]` (both aligned to
 * the interval, at most {@linkcode CANDLE_SLOTS} apart), oldest first.
 */
async function listCandles(
  kv: Deno.Kv,
  symbol: string,
  interval: CandleInterval,
  firstT: number,
  lastT: number,
): Promise<StoredCandle[]> {
  const ms = CANDLE_INTERVAL_MS[interval];
  const count = Math.floor((lastT - firstT) / ms) + 1;
  if (count <= 0) return [];
  const n = CANDLE_SLOTS[interval];
  const prefix = candlePrefix(symbol, interval);
  const s1 = slotOf(firstT, interval);
  const s2 = slotOf(lastT, interval);
  const ranges: [number, number][] = count >= n
    ? [[0, n]]
    : s1 <= s2
    ? [[s1, s2 + 1]]
    : [[s1, n], [0, s2 + 1]];
  const out: StoredCandle[] = [];
  for (const [start, end] of ranges) {
    const iter = kv.list<unknown>({ start: [...prefix, start], end: [...prefix, end] });
    for await (const entry of iter) {
      const c = entry.value;
      if (isStoredCandle(c) && c.t >= firstT && c.t <= lastT && c.t % ms === 0) out.push(c);
    }
  }
  return out.sort((a, b) => a.t - b.t);
}

interface SymbolCandles {
  open: StoredCandle | null;
  prev: StoredCandle | null;
  /** Closed minutes of the newest hour seen, merged. */
  hour: StoredCandle | null;
  /** The hour before `hour`, for late trades across the hour boundary. */
  prevHour: StoredCandle | null;
  openDirty: boolean;
  changed: boolean;
  /** Candles to write at the next flush, by `${interval}:${t}` (the newest object wins). */
  pending: Map<string, StoredCandle>;
}

/** Creates a candle book. */
export function createCandleBook(options: CandleBookOptions): CandleBook {
  const { kv } = options;
  const now = options.now ?? Date.now;
  const writeEveryMs = options.writeEveryMs ?? 2_000;
  const book = new Map<string, SymbolCandles>();
  const stats: CandleStats = { late: 0, dropped: 0, writes: 0, commits: 0 };
  let lastOpenWrite = -Infinity;
  for (const symbol of options.symbols) {
    book.set(symbol, {
      open: null,
      prev: null,
      hour: null,
      prevHour: null,
      openDirty: false,
      changed: false,
      pending: new Map(),
    });
  }

  function close(s: SymbolCandles): void {
    const c = s.open!;
    s.open = null;
    s.prev = c;
    const h = floorTo(c.t, HOUR);
    if (s.hour && s.hour.t === h) mergeCandle(s.hour, c);
    else {
      if (s.hour) s.prevHour = s.hour;
      s.hour = { ...c, t: h };
    }
    s.openDirty = false;
    s.pending.set(`1m:${c.t}`, c);
    s.pending.set(`1h:${h}`, s.hour);
    s.changed = true;
  }

  function rollOne(s: SymbolCandles, cur: number): void {
    if (s.open && s.open.t < cur) close(s);
  }

  /** The hour `h` as it stands: its closed minutes plus the open one. */
  function hourValue(s: SymbolCandles, h: number): StoredCandle | null {
    const base = s.hour?.t === h ? s.hour : s.prevHour?.t === h ? s.prevHour : null;
    const open = s.open && floorTo(s.open.t, HOUR) === h ? s.open : null;
    if (!base) return open ? { ...open, t: h } : null;
    const value = { ...base };
    if (open) mergeCandle(value, open);
    return value;
  }

  function addLate(s: SymbolCandles, m: number, ts: number, price: number, size: number): void {
    if (s.prev && s.prev.t === m) mergeTrade(s.prev, ts, price, size);
    else s.prev = fresh(m, ts, price, size);
    const h = floorTo(m, HOUR);
    let hour: StoredCandle;
    if (s.hour?.t === h) mergeTrade(hour = s.hour, ts, price, size);
    else if (s.prevHour?.t === h) mergeTrade(hour = s.prevHour, ts, price, size);
    else if (!s.hour || s.hour.t < h) {
      if (s.hour) s.prevHour = s.hour;
      hour = s.hour = fresh(h, ts, price, size);
    } else hour = s.prevHour = fresh(h, ts, price, size);
    s.pending.set(`1m:${m}`, s.prev);
    s.pending.set(`1h:${h}`, hour);
    s.changed = true;
    stats.late++;
  }

  return {
    async resume() {
      const t = now();
      const cur = floorTo(t, MINUTE);
      const h = floorTo(cur, HOUR);
      for (const [symbol, s] of book) {
        const minutes = await listCandles(kv, symbol, "1m", h - HOUR, cur);
        s.open = minutes.find((c) => c.t === cur) ?? null;
        s.prev = minutes.find((c) => c.t === cur - MINUTE) ?? null;
        s.hour = null;
        s.prevHour = null;
        for (const c of minutes) {
          if (c.t === cur) continue;
          const target = c.t >= h ? "hour" : "prevHour";
          const at = c.t >= h ? h : h - HOUR;
          if (s[target]) mergeCandle(s[target]!, c);
          else s[target] = { ...c, t: at };
        }
        // Rewrite the rebuilt hours: heals a holder that stopped between two writes.
        if (s.hour) s.pending.set(`1h:${h}`, s.hour);
        if (s.prevHour) s.pending.set(`1h:${h - HOUR}`, s.prevHour);
        s.changed = s.open !== null || s.prev !== null;
      }
    },

    add(symbol, ts, price, size) {
      const s = book.get(symbol);
      if (!s || !Number.isFinite(ts) || !(price > 0) || !(size >= 0)) {
        stats.dropped++;
        return "dropped";
      }
      const t = now();
      const cur = floorTo(t, MINUTE);
      rollOne(s, cur);
      const at = Math.min(ts, t);
      const m = floorTo(at, MINUTE);
      if (m === cur) {
        if (s.open) mergeTrade(s.open, at, price, size);
        else s.open = fresh(m, at, price, size);
        s.openDirty = true;
        s.changed = true;
        return "open";
      }
      if (m === cur - MINUTE) {
        addLate(s, m, at, price, size);
        return "late";
      }
      stats.dropped++;
      return "dropped";
    },

    roll() {
      const cur = floorTo(now(), MINUTE);
      for (const s of book.values()) rollOne(s, cur);
    },

    latest(symbol, interval = "1m") {
      const s = book.get(symbol);
      if (!s) return null;
      if (interval === "1m") {
        const c = s.open ?? s.prev;
        return c ? toCandle(c) : null;
      }
      const newest = s.open ?? s.prev;
      const h = newest ? floorTo(newest.t, HOUR) : s.hour?.t;
      const value = h === undefined ? null : hourValue(s, h);
      return value ? toCandle(value) : null;
    },

    takeChanged() {
      const out: string[] = [];
      for (const [symbol, s] of book) {
        if (s.changed) out.push(symbol);
        s.changed = false;
      }
      return out;
    },

    async flush(force = false) {
      const t = now();
      const writes: { key: Deno.KvKey; value: StoredCandle; expireIn: number }[] = [];
      // Open candles of every symbol go together, so a round costs one commit.
      const openDue = force || t - lastOpenWrite >= writeEveryMs;
      if (openDue) lastOpenWrite = t;
      for (const [symbol, s] of book) {
        if (s.open && s.openDirty && openDue) {
          const h = floorTo(s.open.t, HOUR);
          s.pending.set(`1m:${s.open.t}`, s.open);
          s.pending.set(`1h:${h}`, hourValue(s, h)!);
          s.openDirty = false;
        }
        for (const [item, candle] of s.pending) {
          const interval = item.slice(0, 2) as CandleInterval;
          const start = candle.t;
          // The current hour is written as it stands now, with the open minute merged.
          const value = interval === "1h" ? hourValue(s, start) ?? candle : candle;
          writes.push({
            key: candleKey(symbol, interval, slotOf(start, interval)),
            value: { ...value },
            expireIn: EXPIRE_MS[interval],
          });
        }
        s.pending.clear();
      }
      for (let i = 0; i < writes.length; i += COMMIT_CHUNK) {
        const op = kv.atomic();
        for (const w of writes.slice(i, i + COMMIT_CHUNK)) {
          op.set(w.key, w.value, { expireIn: w.expireIn });
        }
        await op.commit();
        stats.commits++;
        stats.writes += Math.min(COMMIT_CHUNK, writes.length - i);
      }
    },

    stats: () => ({ ...stats }),
  };
}

/** A request for stored candles. */
export interface CandleQuery {
  symbol: string;
  interval: CandleInterval;
  /** Earliest candle start wanted, ms (default: as far back as `limit` allows). */
  from?: number;
  /** Latest candle start wanted, ms (default: now). */
  to?: number;
  /** At most this many (the newest ones); default and cap {@linkcode MAX_CANDLES}. */
  limit?: number;
}

/** What {@linkcode readCandles} returns. */
export interface CandleRange {
  symbol: string;
  interval: CandleInterval;
  candles: Candle[];
  /** More candles lay in the range than returned (the oldest were left out). */
  truncated: boolean;
}

/**
 * Reads stored candles, oldest first. The range is clipped to what is kept and to
 * `limit` candles, keeping the newest.
 */
export async function readCandles(
  kv: Deno.Kv,
  query: CandleQuery,
  now: number = Date.now(),
): Promise<CandleRange> {
  const { symbol, interval } = query;
  const ms = CANDLE_INTERVAL_MS[interval];
  const limit = Math.max(1, Math.min(MAX_CANDLES, Math.floor(query.limit ?? MAX_CANDLES)));
  const last = floorTo(Math.min(query.to ?? now, now), ms);
  const oldestKept = last - (CANDLE_SLOTS[interval] - 1) * ms;
  let first = Math.max(floorTo(query.from ?? oldestKept, ms), oldestKept);
  let truncated = false;
  if ((last - first) / ms + 1 > limit) {
    first = last - (limit - 1) * ms;
    truncated = query.from !== undefined && query.from < first;
  }
  const stored = await listCandles(kv, symbol, interval, first, last);
  return { symbol, interval, candles: stored.map(toCandle), truncated };
}
