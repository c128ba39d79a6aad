/**
 * The price HTTP answers, for thin routes: `GET /api/prices` (the board's quotes),
 * `GET /api/sources` (each venue's health) and `GET /api/candles` (stored candles, the
 * query validated with zod: a bad one is `400 { error: "bad_request", reason }`).
 */
import { z } from "zod";
import { MAX_CANDLES, readCandles } from "./candles.ts";
import type { PriceBoard } from "./types.ts";

const NO_STORE = { "cache-control": "no-store" };

/** `GET /api/prices`: `{ seq, ts, quotes }` of the newest board (empty before the first). */
export function pricesResponse(board: PriceBoard | null): Response {
  return Response.json(
    board ? { seq: board.seq, ts: board.ts, quotes: board.quotes } : { seq: 0, ts: 0, quotes: {} },
    { headers: NO_STORE },
  );
}

/** One venue in `GET /api/sources`. */
export interface SourceStatus {
  venue: string;
  connected: boolean;
  /** Since the venue's last message, as of the request (null before the first). */
  lastMessageAgeMs: number | null;
  reconnects: number;
  gaps: number;
  malformed: number;
  messages: number;
  symbols: string[];
  staleSymbols: string[];
  usdProxy: boolean;
}

/**
 * `GET /api/sources`: `{ ts, boardAgeMs, venues }`. The health comes from the board the
 * lease holder writes, so any isolate answers; `boardAgeMs` says how old that is.
 */
export function sourcesResponse(board: PriceBoard | null, now: number): Response {
  const venues: SourceStatus[] = (board?.venues ?? []).map((h) => ({
    venue: h.venue,
    connected: h.connected,
    lastMessageAgeMs: h.lastMessageAt === null ? null : Math.max(0, now - h.lastMessageAt),
    reconnects: h.reconnects,
    gaps: h.gaps,
    malformed: h.malformed,
    messages: h.messages,
    symbols: h.symbols,
    staleSymbols: h.staleSymbols,
    usdProxy: h.usdProxy,
  }));
  return Response.json({
    ts: now,
    boardAgeMs: board ? Math.max(0, now - board.ts) : null,
    venues,
  }, { headers: NO_STORE });
}

/** Milliseconds since the epoch, as digits (no signs, exponents or fractions). */
const epochMs = z.string().regex(/^\d{1,16}$/, "expected milliseconds since the epoch")
  .transform(Number)
  .refine((n) => n <= 8_640_000_000_000_000, "beyond the last representable date");

const candleQuery = z.object({
  symbol: z.string().min(1, "symbol is required").max(20, "symbol is too long"),
  interval: z.enum(["1m", "1h"], { error: "interval is 1m or 1h" }).default("1m"),
  from: epochMs.optional(),
  to: epochMs.optional(),
  limit: z.string().regex(/^\d{1,5}$/, "expected an integer").transform(Number)
    .refine((n) => n >= 1 && n <= MAX_CANDLES, `limit is 1 to ${MAX_CANDLES}`).optional(),
}).refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
  message: "from is after to",
});

function badRequest(reason: string): Response {
  return Response.json({ error: "bad_request", reason }, { status: 400, headers: NO_STORE });
}

/**
 * `GET /api/candles?symbol=&interval=1m|1h&from=&to=&limit=`: `{ symbol, interval,
 * candles, truncated }`, oldest first, at most {@linkcode MAX_CANDLES} (the newest).
 */
export async function candlesResponse(
  kv: Deno.Kv,
  url: URL,
  symbols: ReadonlySet<string>,
  now: number,
): Promise<Response> {
  const raw: Record<string, string> = {};
  for (const key of ["symbol", "interval", "from", "to", "limit"]) {
    const value = url.searchParams.get(key);
    if (value !== null) raw[key] = value.slice(0, 64);
  }
  const parsed = candleQuery.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    return badRequest(`${where}${issue.message}`);
  }
  const query = parsed.data;
  if (!symbols.has(query.symbol)) return badRequest(`symbol: unknown symbol "${query.symbol}"`);
  const range = await readCandles(kv, query, now);
  return Response.json(range, { headers: NO_STORE });
}
