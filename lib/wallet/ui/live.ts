/**
 * One watched address kept live for the page: the first page read over HTTP, every
 * message of `wallet:{address}` applied (lib/wallet/ui/feed.ts), older pages on demand,
 * as signals. Knows no socket: it is given anything that can `subscribe` (the page's
 * client) and the HTTP API, so tests drive it with fakes.
 *
 * When the page is read: on the first subscribe (the server-rendered page may be a
 * moment old by then), and whenever a reconnect could not replay what was missed
 * (`onReset`). A reconnect that recovers replays the missed messages itself (the SDK
 * asks the channel's history), and nothing is read. While a page is being read, the
 * channel's messages wait in a buffer and are applied after it, in order.
 *
 * @module
 */
import { batch, type ReadonlySignal, signal } from "@preact/signals";
import type { SubscriptionHandlers } from "../../client/types.ts";
import type { WalletMessage, WalletView } from "../types.ts";
import { walletChannel } from "../types.ts";
import type { WalletApi } from "./api.ts";
import {
  applyMessage,
  feedFromView,
  type WalletFeed,
  withFirstPage,
  withOlderPage,
  withoutReorg,
} from "./feed.ts";
import { parseWalletMessage } from "./wire.ts";

/** Messages kept while a page is read; past it they are dropped and the page read again. */
export const MAX_BUFFERED = 2_000;

/** Anything channels can be subscribed through (the page's `RealtimeClient`). */
export interface ChannelSource {
  subscribe<T>(channel: string, handlers: SubscriptionHandlers<T>): { unsubscribe(): void };
}

/** Where the feed is. */
export type LiveFeedStatus = "loading" | "live" | "error";

/** One address kept live (see the module's doc). */
export interface LiveFeed {
  readonly address: string;
  /** Null until the first page arrived (unless the server rendered one). */
  readonly feed: ReadonlySignal<WalletFeed | null>;
  readonly status: ReadonlySignal<LiveFeedStatus>;
  /** Why the page could not be read, or the subscription was refused. */
  readonly error: ReadonlySignal<string | null>;
  /** Messages and items that failed validation and were dropped. */
  readonly rejected: ReadonlySignal<number>;
  readonly loadingMore: ReadonlySignal<boolean>;
  readonly moreError: ReadonlySignal<string | null>;
  /** Subscribes (once); the page is read when the subscription is confirmed. */
  start(): void;
  /** Reads the first page again (the "try again" of an error). */
  reload(): void;
  /** Appends the next older page. */
  loadMore(): Promise<void>;
  dismissReorg(): void;
  /** Unsubscribes; late answers are ignored. */
  dispose(): void;
}

/** Options of {@linkcode createLiveFeed}. */
export interface LiveFeedOptions {
  address: string;
  /** The server-rendered first page, used until the page is read again. */
  initial?: WalletView | null;
  api: Pick<WalletApi, "view">;
  source: ChannelSource;
  now?: () => number;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A {@linkcode LiveFeed} of `options.address`. */
export function createLiveFeed(options: LiveFeedOptions): LiveFeed {
  const { address, api, source } = options;
  const now = options.now ?? Date.now;
  const initial = options.initial?.address === address ? options.initial : null;
  const feed = signal<WalletFeed | null>(initial ? feedFromView(initial) : null);
  const status = signal<LiveFeedStatus>(initial ? "live" : "loading");
  const error = signal<string | null>(null);
  const rejected = signal(0);
  const loadingMore = signal(false);
  const moreError = signal<string | null>(null);
  /** Messages waiting for the page being read; null while none is. */
  let buffer: WalletMessage[] | null = [];
  let generation = 0;
  let disposed = false;
  let subscription: { unsubscribe(): void } | null = null;
  let controller: AbortController | null = null;

  const apply = (message: WalletMessage) => {
    const current = feed.value;
    if (current) feed.value = applyMessage(current, message, now());
  };

  const reload = () => {
    if (disposed) return;
    const mine = ++generation;
    buffer ??= [];
    controller?.abort();
    const ac = new AbortController();
    controller = ac;
    if (!feed.value) status.value = "loading";
    api.view(address, { signal: ac.signal }).then(({ view, dropped }) => {
      if (mine !== generation || disposed) return;
      let next = withFirstPage(feed.value, view);
      for (const m of buffer ?? []) next = applyMessage(next, m, now());
      buffer = null;
      batch(() => {
        feed.value = next;
        rejected.value += dropped;
        status.value = "live";
        error.value = null;
        moreError.value = null;
      });
    }, (err) => {
      if (mine !== generation || disposed) return;
      // What is shown stays, and the channel goes on updating it.
      const waiting = buffer ?? [];
      buffer = null;
      batch(() => {
        for (const m of waiting) apply(m);
        status.value = "error";
        error.value = `The activity could not be loaded: ${messageOf(err)}`;
      });
    });
  };

  const handlers: SubscriptionHandlers<unknown> = {
    onMessage(data) {
      const message = parseWalletMessage(data);
      if (!message) {
        rejected.value++;
        return;
      }
      if (buffer) {
        buffer.push(message);
        if (buffer.length > MAX_BUFFERED) {
          buffer = [];
          reload();
        }
        return;
      }
      apply(message);
    },
    onSubscribed({ recovered }) {
      // First subscribe: read the page. `true`: the missed messages follow. `false`:
      // onReset reads it.
      if (recovered === undefined) reload();
    },
    onReset() {
      reload();
    },
    onError(err) {
      batch(() => {
        status.value = "error";
        error.value = err.message;
      });
    },
  };

  return {
    address,
    feed,
    status,
    error,
    rejected,
    loadingMore,
    moreError,
    start() {
      if (subscription || disposed) return;
      subscription = source.subscribe(walletChannel(address), handlers);
    },
    reload,
    async loadMore() {
      const current = feed.value;
      if (!current?.next || loadingMore.value || disposed) return;
      const mine = generation;
      loadingMore.value = true;
      moreError.value = null;
      try {
        const { view, dropped } = await api.view(address, { cursor: current.next });
        if (mine !== generation || disposed || !feed.value) return;
        batch(() => {
          feed.value = withOlderPage(feed.value!, view);
          rejected.value += dropped;
        });
      } catch (err) {
        if (!disposed) moreError.value = `Older activity could not be loaded: ${messageOf(err)}`;
      } finally {
        loadingMore.value = false;
      }
    },
    dismissReorg() {
      if (feed.value) feed.value = withoutReorg(feed.value);
    },
    dispose() {
      disposed = true;
      generation++;
      controller?.abort();
      subscription?.unsubscribe();
      subscription = null;
    },
  };
}
