/**
 * What the wallet routes answer, built from KV (any isolate can serve them; only the
 * `chain` lease holder writes). Routes stay thin: parse, call one of these, respond.
 *
 * @module
 */
import { parseAddress } from "./address.ts";
import type { ChainService } from "./service.ts";
import { readBalances, readCursor, readItems, readToken, type TokenMeta } from "./store.ts";
import type { WalletView } from "./types.ts";
import { type UsdPrice, viewBalances, viewItem } from "./view.ts";

/** Items per page by default, and at most. */
export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 100;

/** A refusal as the routes send it: `{ error: { code, message } }`. */
export interface HttpRefusal {
  status: number;
  code: string;
  message: string;
}

/** The JSON error response of a refusal. */
export function refusal(r: HttpRefusal, headers: Record<string, string> = {}): Response {
  return Response.json({ error: { code: r.code, message: r.message } }, {
    status: r.status,
    headers: { "cache-control": "no-store", ...headers },
  });
}

/** A page request: `?cursor=` (from `next`) and `?limit=` (1–100). */
export function parsePage(
  params: URLSearchParams,
): { ok: true; before?: number; limit: number } | { ok: false; message: string } {
  const cursor = params.get("cursor");
  const limitText = params.get("limit");
  let limit = DEFAULT_PAGE;
  if (limitText !== null) {
    limit = /^[0-9]{1,3}$/.test(limitText) ? Number(limitText) : NaN;
    if (!(limit >= 1 && limit <= MAX_PAGE)) {
      return { ok: false, message: `limit must be an integer from 1 to ${MAX_PAGE}` };
    }
  }
  if (cursor === null || cursor === "") return { ok: true, limit };
  if (!/^[0-9]{1,15}$/.test(cursor)) {
    return { ok: false, message: "cursor is not one this API gave" };
  }
  return { ok: true, before: Number(cursor), limit };
}

/** The address of a path segment, checksummed, or the refusal naming what is wrong. */
export function addressParam(
  raw: string,
): { ok: true; address: string } | HttpRefusal & { ok: false } {
  let text: string;
  try {
    text = decodeURIComponent(raw);
  } catch {
    return {
      ok: false,
      status: 400,
      code: "bad_request",
      message: "The address is not valid URL text",
    };
  }
  const parsed = parseAddress(text);
  return parsed.ok
    ? parsed
    : { ok: false, status: 400, code: "invalid_address", message: parsed.message };
}

const tokenCache = new Map<string, TokenMeta>();

async function tokensOf(
  kv: Deno.Kv,
  chainId: number,
  addresses: string[],
): Promise<Map<string, TokenMeta>> {
  const out = new Map<string, TokenMeta>();
  for (const a of addresses) {
    const key = `${chainId}:${a}`;
    let meta = tokenCache.get(key);
    if (!meta) {
      meta = (await readToken(kv, chainId, a.toLowerCase())) ?? undefined;
      if (meta) {
        if (tokenCache.size >= 5_000) tokenCache.clear();
        tokenCache.set(key, meta);
      }
    }
    if (meta) out.set(a, meta);
  }
  return out;
}

/** `GET /api/wallet/{address}`'s body. */
export async function walletView(
  kv: Deno.Kv,
  chain: ChainService,
  address: string,
  page: { before?: number; limit: number },
  price: UsdPrice,
): Promise<WalletView> {
  const status = chain.status();
  const required = status.confirmations;
  const view: WalletView = {
    address,
    chainId: status.chainId,
    head: status.head,
    confirmationsRequired: required,
    balances: [],
    balancesBlock: null,
    activity: [],
    next: null,
  };
  const chainId = status.chainId;
  if (chainId === null) return view;
  const [items, stored, cursor] = await Promise.all([
    readItems(kv, chainId, address, { limit: page.limit + 1, before: page.before }),
    readBalances(kv, chainId, address),
    readCursor(kv, chainId),
  ]);
  // The cursor is committed with the items: counting from it keeps them consistent
  // (the status the listener writes after its round may lag by a round).
  const head = Math.max(status.head ?? -1, cursor.value?.number ?? -1);
  view.head = head >= 0 ? head : null;
  const shown = items.slice(0, page.limit);
  view.activity = shown.map((i) => viewItem(i, view.head, required));
  view.next = items.length > page.limit ? String(shown[shown.length - 1].seq) : null;
  if (stored) {
    const metas = await tokensOf(kv, chainId, Object.keys(stored.tokens));
    view.balances = viewBalances(stored, chain.config.nativeSymbol, (a) => metas.get(a), price);
    view.balancesBlock = stored.block;
  }
  return view;
}
