/**
 * The browser's client of the wallet endpoints (docs/WALLET.md, "HTTP API"): the watched
 * addresses (list, watch, unwatch), an address's view a page at a time, and the chain's
 * status. Same-origin requests with the session cookie; answers bounded and validated;
 * a refusal is an `ApiError` with the server's `code` and `message` (shown as is: the
 * server's 400s name the problem).
 *
 * @module
 */
import { ApiError, type JsonClientDeps, requestJson } from "../../notifications/ui/api.ts";
import type { ChainStatus, WalletView, WatchedAddress } from "../types.ts";
import { parseChainStatus, parseWalletView, parseWatched, parseWatchList } from "./wire.ts";

/** Items per page the page asks for. */
export const WALLET_PAGE_SIZE = 25;

/** The wallet endpoints. */
export interface WalletApi {
  /** `GET /api/wallet/watch`. */
  watched(): Promise<{ addresses: WatchedAddress[]; max: number }>;
  /** `POST /api/wallet/watch`: the address as the server keeps it (checksummed). */
  watch(address: string, label: string): Promise<WatchedAddress>;
  /** `DELETE /api/wallet/watch/{address}`. */
  unwatch(address: string): Promise<void>;
  /** `GET /api/wallet/{address}?limit=&cursor=`; `dropped` counts items that did not validate. */
  view(
    address: string,
    options?: { cursor?: string | null; limit?: number; signal?: AbortSignal },
  ): Promise<{ view: WalletView; dropped: number }>;
  /** `GET /api/chain`. */
  chain(signal?: AbortSignal): Promise<ChainStatus>;
}

/** The client of `/api/wallet` and `/api/chain`. */
export function createWalletApi(deps: JsonClientDeps = {}): WalletApi {
  const doFetch = deps.fetch ?? ((input, init) => fetch(input, init));
  return {
    async watched() {
      const list = parseWatchList(await requestJson(doFetch, "/api/wallet/watch"));
      if (!list) throw new ApiError(200, "bad_answer", "The watch list answer is not one");
      return list;
    },
    async watch(address, label) {
      const body: Record<string, string> = { address };
      if (label.trim()) body.label = label.trim();
      const answer = await requestJson(doFetch, "/api/wallet/watch", { method: "POST", body });
      const watched = parseWatched(answer);
      if (!watched) throw new ApiError(200, "bad_answer", "The answer is not a watched address");
      return watched;
    },
    async unwatch(address) {
      await requestJson(doFetch, `/api/wallet/watch/${encodeURIComponent(address)}`, {
        method: "DELETE",
      });
    },
    async view(address, options = {}) {
      const query = new URLSearchParams({ limit: String(options.limit ?? WALLET_PAGE_SIZE) });
      if (options.cursor) query.set("cursor", options.cursor);
      const answer = await requestJson(
        doFetch,
        `/api/wallet/${encodeURIComponent(address)}?${query}`,
        { signal: options.signal },
      );
      const parsed = parseWalletView(answer);
      if (!parsed || parsed.value.address !== address) {
        throw new ApiError(200, "bad_answer", "The wallet answer is not a view of this address");
      }
      return { view: parsed.value, dropped: parsed.dropped };
    },
    async chain(signal) {
      const status = parseChainStatus(await requestJson(doFetch, "/api/chain", { signal }));
      if (!status) throw new ApiError(200, "bad_answer", "The chain answer is not a status");
      return status;
    },
  };
}
