/**
 * `CHAIN_WS_URL`: a WebSocket subscription to the node's new heads and pending
 * transactions, used only to wake the listener at once — the data is still read over
 * HTTP, validated, by the same round as polling. So a missed, duplicated, forged or
 * malformed notification can cost a poll, never correctness. Frames over 1 MiB are
 * ignored; notifications closer than 50 ms apart are coalesced (the last one is never
 * lost); the socket reconnects with backoff (1 s doubling to
 * 60 s) until `signal` aborts or `close()` is called.
 *
 * @module
 */
import type { WalletLog } from "./ingestor.ts";

/** Options for {@linkcode startWakeSocket}. */
export interface WakeSocketOptions {
  url: string;
  onWake: () => void;
  log: WalletLog;
  signal: AbortSignal;
  /** The WebSocket constructor (tests). */
  WebSocketImpl?: typeof WebSocket;
}

const MAX_FRAME_CHARS = 1024 * 1024;
const MIN_WAKE_INTERVAL_MS = 50;

/** Starts the subscription; `close()` stops it for good. */
export function startWakeSocket(options: WakeSocketOptions): { close(): void } {
  const Impl = options.WebSocketImpl ?? WebSocket;
  let closed = false;
  let socket: WebSocket | null = null;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  let lastWake = 0;
  let trailing: ReturnType<typeof setTimeout> | undefined;

  function fire(): void {
    lastWake = Date.now();
    if (!closed) options.onWake();
  }

  function connect(): void {
    if (closed || options.signal.aborted) return;
    let ws: WebSocket;
    try {
      ws = new Impl(options.url);
    } catch (err) {
      options.log.warn("CHAIN_WS_URL cannot be opened; polling only", {
        error: err instanceof Error ? err.message : String(err),
      });
      return;
    }
    socket = ws;
    ws.onopen = () => {
      failures = 0;
      for (const [id, kind] of [[1, "newHeads"], [2, "newPendingTransactions"]] as const) {
        ws.send(JSON.stringify({ jsonrpc: "2.0", id, method: "eth_subscribe", params: [kind] }));
      }
    };
    ws.onmessage = (e) => {
      if (typeof e.data !== "string" || e.data.length > MAX_FRAME_CHARS) return;
      if (!e.data.includes('"eth_subscription"')) return;
      const since = Date.now() - lastWake;
      if (since >= MIN_WAKE_INTERVAL_MS) return fire();
      // Too soon after the last one (a pending transaction, then its block): wake once
      // more at the end of the interval rather than drop it.
      trailing ??= setTimeout(() => {
        trailing = undefined;
        fire();
      }, MIN_WAKE_INTERVAL_MS - since);
    };
    ws.onerror = () => {};
    ws.onclose = () => {
      socket = null;
      if (closed || options.signal.aborted) return;
      failures++;
      retry = setTimeout(connect, Math.min(60_000, 1_000 * 2 ** Math.min(failures - 1, 6)));
    };
  }

  const close = () => {
    closed = true;
    clearTimeout(retry);
    clearTimeout(trailing);
    try {
      socket?.close();
    } catch {
      // already closed
    }
    socket = null;
  };
  options.signal.addEventListener("abort", close, { once: true });
  connect();
  return { close };
}
