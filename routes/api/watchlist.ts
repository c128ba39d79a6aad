import type { Handlers } from "$fresh/server.ts";
import type { AppState } from "../../lib/app/context.ts";
import { createLimiter } from "../../lib/auth/mod.ts";
import { readTextLimited } from "../../lib/auth/request.ts";
import {
  MAX_WATCHLIST_BODY_BYTES,
  parseWatchlist,
  readWatchlist,
  writeWatchlist,
} from "../../lib/prices/watchlist.ts";

/** Saves per user and minute, in this isolate (a star click saves once; this is ample). */
const saves = createLimiter({ budget: 60, windowMs: 60_000, maxKeys: 10_000 });

function error(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return Response.json({ error: { code, message } }, {
    status,
    headers: { "cache-control": "no-store", ...headers },
  });
}

function signedInUser(state: AppState): string | null {
  const user = state.user;
  return user && !user.anonymous ? user.userId : null;
}

/**
 * `GET /api/watchlist`: the signed-in user's starred pairs, `{ "symbols": [...] }`.
 * `PUT /api/watchlist` with `{ "symbols": [...] }` (≤ 50 known pairs, ≤ 2 KiB): replaces
 * them. Session cookie required (401 otherwise); PUT from same-origin pages and programs
 * only (403), at most 60 per user and minute (429). Refusals: `{ error: { code, message } }`.
 */
export const handler: Handlers<unknown, AppState> = {
  async GET(_req, ctx) {
    const userId = signedInUser(ctx.state);
    if (!userId) return error(401, "unauthorized", "Sign in to keep a watchlist");
    const symbols = await readWatchlist(ctx.state.services.kv, userId);
    return Response.json({ symbols }, { headers: { "cache-control": "no-store" } });
  },
  async PUT(req, ctx) {
    const { auth, kv } = ctx.state.services;
    const refused = auth.checkSameOrigin(req);
    if (refused) {
      await req.body?.cancel();
      return error(refused.status, refused.code, refused.message);
    }
    const userId = signedInUser(ctx.state);
    if (!userId) {
      await req.body?.cancel();
      return error(401, "unauthorized", "Sign in to keep a watchlist");
    }
    const attempt = saves.begin(userId);
    if (!attempt.ok) {
      await req.body?.cancel();
      return error(429, "rate_limited", "Too many watchlist saves; try again shortly", {
        "retry-after": String(attempt.retryAfterSec),
      });
    }
    attempt.count();
    const text = await readTextLimited(req, MAX_WATCHLIST_BODY_BYTES);
    if (text === null) {
      return error(413, "too_large", `The body exceeds ${MAX_WATCHLIST_BODY_BYTES} bytes`);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return error(400, "bad_request", "The body is not JSON");
    }
    const quotes = ctx.state.services.board()?.quotes;
    const parsed = parseWatchlist(body, quotes ? (s) => Object.hasOwn(quotes, s) : undefined);
    if (!parsed.ok) return error(400, "bad_request", parsed.message);
    await writeWatchlist(kv, userId, parsed.symbols);
    return Response.json({ symbols: parsed.symbols }, { headers: { "cache-control": "no-store" } });
  },
};
