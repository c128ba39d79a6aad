/**
 * Helpers for the wallet tests: a user who watches addresses through the real routes of
 * an in-process app, the wallet view read through `GET /api/wallet/{address}`, and the
 * messages the app publishes on `wallet:{address}`, captured from its bus.
 */
import { equal } from "node:assert/strict";
import type { ActivityItem, WalletMessage, WalletView } from "../lib/wallet/types.ts";
import type { InProcessApp } from "./_app.ts";
import { waitFor } from "./_deadline.ts";

/** The chain settings the wallet tests run the app with (a node polled every 100 ms). */
export function chainEnv(
  rpcUrl: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    CHAIN_RPC_URL: rpcUrl,
    CHAIN_POLL_MS: "100",
    CHAIN_START_BLOCK: "0",
    CHAIN_CONFIRMATIONS: "3",
    CHAIN_FINALITY: "12",
    ...extra,
  };
}

/** Signs up `username` (JSON API); returns the session cookie pair. */
export async function signUp(app: InProcessApp, username: string): Promise<string> {
  const res = await app.request("/api/accounts", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: "violet-harbor-lantern" }),
  });
  equal(res.status, 201, `sign up ${username}: ${await res.clone().text()}`);
  await res.body?.cancel();
  return (res.headers.get("set-cookie") ?? "").split(";")[0];
}

/** `POST /api/wallet/watch`. */
export function watch(app: InProcessApp, cookie: string, body: unknown): Promise<Response> {
  return app.request("/api/wallet/watch", {
    method: "POST",
    headers: { "content-type": "application/json", cookie },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** `GET /api/wallet/{address}` as JSON (asserts 200). */
export async function walletOf(
  app: InProcessApp,
  cookie: string,
  address: string,
  query = "",
): Promise<WalletView> {
  const res = await app.request(`/api/wallet/${address}${query}`, { headers: { cookie } });
  const text = await res.text();
  equal(res.status, 200, `GET /api/wallet/${address}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** Every message published on `wallet:{address}` from now on, in order. */
export function captureWallet(app: InProcessApp, address: string): WalletMessage[] {
  const seen: WalletMessage[] = [];
  app.services.bus.onMessage((m) => {
    if (m.channel === `wallet:${address}`) seen.push(m.data as WalletMessage);
  });
  return seen;
}

/**
 * Waits (bounded) until the feed of `address` has an item matching `match`; resolves with
 * it. The failure message shows the feed as last read.
 */
export async function waitItem(
  app: InProcessApp,
  cookie: string,
  address: string,
  match: (item: ActivityItem) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<ActivityItem> {
  let last: WalletView | null = null;
  return await waitFor(async () => {
    last = await walletOf(app, cookie, address, "?limit=100");
    return last.activity.find(match);
  }, {
    timeoutMs,
    what,
    intervalMs: 50,
    detail: () =>
      JSON.stringify(
        last?.activity.map((i) => [i.id.slice(0, 12), i.kind, i.status, i.confirmations]),
      )
        .slice(0, 1_500),
  });
}

/** Waits (bounded) until the app's ingested head reaches `number`. */
export async function waitHead(
  app: InProcessApp,
  number: number,
  timeoutMs = 15_000,
): Promise<void> {
  await waitFor(() => (app.services.chain.status().head ?? -1) >= number, {
    timeoutMs,
    what: `the listener to reach block ${number}`,
    detail: () => JSON.stringify(app.services.chain.status()),
  });
}
