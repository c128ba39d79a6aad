import { deepEqual, equal } from "node:assert/strict";
import type { SubscriptionHandlers } from "../../client/types.ts";
import type { ActivityItem, WalletView } from "../types.ts";
import { createLiveFeed } from "./live.ts";

const W = "0x976EA74026E726554dB657fA54763abd0C3a0aa9";
const A = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const hash = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;

function item(n: number, status: ActivityItem["status"] = "pending", confirmations = 0) {
  return {
    id: `${hash(n)}:tx`,
    kind: "native",
    direction: "in",
    txHash: hash(n),
    blockNumber: status === "pending" ? null : 5,
    blockHash: status === "pending" ? null : hash(99),
    status,
    confirmations,
    from: A,
    to: W,
    amount: "1",
    raw: "1",
    ts: n,
  } satisfies ActivityItem;
}

function view(activity: ActivityItem[], next: string | null = null): WalletView {
  return {
    address: W,
    chainId: 31337,
    head: 5,
    confirmationsRequired: 3,
    balances: [],
    balancesBlock: null,
    activity,
    next,
  };
}

/** A fake of the page client's `subscribe` and of the API, driven by the test. */
function world() {
  let handlers: SubscriptionHandlers<unknown> | null = null;
  const channels: string[] = [];
  let unsubscribed = 0;
  const reads: { cursor?: string | null; answer: PromiseWithResolvers<WalletView> }[] = [];
  const source = {
    subscribe<T>(channel: string, h: SubscriptionHandlers<T>) {
      channels.push(channel);
      handlers = h as SubscriptionHandlers<unknown>;
      return { unsubscribe: () => unsubscribed++ };
    },
  };
  const api = {
    view(_address: string, options: { cursor?: string | null } = {}) {
      const answer = Promise.withResolvers<WalletView>();
      reads.push({ cursor: options.cursor, answer });
      return answer.promise.then((v) => ({ view: v, dropped: 0 }));
    },
  };
  return {
    source,
    api,
    channels,
    reads,
    get handlers() {
      return handlers!;
    },
    get unsubscribed() {
      return unsubscribed;
    },
  };
}

const tick = () => new Promise((r) => setTimeout(r, 0));
const statuses = (items: ActivityItem[] | undefined) =>
  items?.map((i) => `${i.txHash.slice(-1)}:${i.status}:${i.confirmations}`);

Deno.test("[wallet ui live] messages during the first read wait, then apply on top of the page", async () => {
  const w = world();
  const live = createLiveFeed({ address: W, api: w.api, source: w.source, now: () => 7 });
  equal(live.status.value, "loading");
  live.start();
  deepEqual(w.channels, [`wallet:${W}`]);
  w.handlers.onSubscribed?.({});
  equal(w.reads.length, 1, "the first subscribe reads the page");
  // Told while the page is read: the item got included, then a new one came.
  w.handlers.onMessage({ type: "item", item: item(1, "included", 1), head: 5 }, { ts: 0 });
  w.handlers.onMessage({ type: "item", item: item(2), head: 5 }, { ts: 0 });
  w.handlers.onMessage({ type: "nonsense" }, { ts: 0 });
  equal(live.feed.peek() === null, true, "nothing shown before the page");
  // The page was read before the inclusion.
  w.reads[0].answer.resolve(view([item(1)]));
  await tick();
  equal(live.status.value, "live");
  deepEqual(statuses(live.feed.value?.items), ["2:pending:0", "1:included:1"]);
  equal(live.rejected.value, 1, "the bad message is counted");
  // Live from now on.
  w.handlers.onMessage({ type: "item", item: item(1, "included", 2), head: 6 }, { ts: 0 });
  deepEqual(statuses(live.feed.value?.items), ["2:pending:0", "1:included:2"]);
  equal(live.feed.value?.head, 6);
});

Deno.test("[wallet ui live] a recovered reconnect reads nothing; a reset reads the page again", async () => {
  const w = world();
  const live = createLiveFeed({
    address: W,
    api: w.api,
    source: w.source,
    initial: view([item(1)]),
  });
  equal(live.status.value, "live", "the server-rendered page shows at once");
  live.start();
  w.handlers.onSubscribed?.({});
  w.reads[0].answer.resolve(view([item(1, "included", 1)]));
  await tick();
  deepEqual(statuses(live.feed.value?.items), ["1:included:1"]);
  w.handlers.onSubscribed?.({ recovered: true });
  equal(w.reads.length, 1);
  w.handlers.onSubscribed?.({ recovered: false });
  w.handlers.onReset?.();
  equal(w.reads.length, 2);
  w.reads[1].answer.resolve(view([item(3), item(1, "confirmed", 3)]));
  await tick();
  deepEqual(statuses(live.feed.value?.items), ["3:pending:0", "1:confirmed:3"]);
});

Deno.test("[wallet ui live] a failed read keeps what is shown and goes on live; try again", async () => {
  const w = world();
  const live = createLiveFeed({
    address: W,
    api: w.api,
    source: w.source,
    initial: view([item(1)]),
  });
  live.start();
  w.handlers.onSubscribed?.({});
  w.handlers.onMessage({ type: "item", item: item(2), head: 5 }, { ts: 0 });
  w.reads[0].answer.reject(new Error("The server answered 500"));
  await tick();
  equal(live.status.value, "error");
  equal(live.error.value, "The activity could not be loaded: The server answered 500");
  deepEqual(statuses(live.feed.value?.items), ["2:pending:0", "1:pending:0"]);
  live.reload();
  w.reads[1].answer.resolve(view([item(2), item(1)]));
  await tick();
  equal(live.status.value, "live");
  equal(live.error.value, null);
});

Deno.test("[wallet ui live] load more appends the older page; a refused subscription says why", async () => {
  const w = world();
  const live = createLiveFeed({ address: W, api: w.api, source: w.source });
  live.start();
  w.handlers.onSubscribed?.({});
  w.reads[0].answer.resolve(view([item(3), item(2)], "2"));
  await tick();
  const more = live.loadMore();
  equal(live.loadingMore.value, true);
  equal(w.reads[1].cursor, "2");
  w.reads[1].answer.resolve(view([item(1)], null));
  await more;
  deepEqual(statuses(live.feed.value?.items), ["3:pending:0", "2:pending:0", "1:pending:0"]);
  equal(live.feed.value?.next, null);
  equal(live.loadingMore.value, false);
  await live.loadMore();
  equal(w.reads.length, 2, "no next page: nothing read");
  w.handlers.onError?.({ code: "forbidden", message: "Cannot subscribe to wallet:0x…" });
  equal(live.status.value, "error");
  equal(live.error.value, "Cannot subscribe to wallet:0x…");
  live.dispose();
  equal(w.unsubscribed, 1);
});

Deno.test("[wallet ui live] answers after dispose are ignored", async () => {
  const w = world();
  const live = createLiveFeed({ address: W, api: w.api, source: w.source });
  live.start();
  w.handlers.onSubscribed?.({});
  live.dispose();
  w.reads[0].answer.resolve(view([item(1)]));
  await tick();
  equal(live.feed.value, null);
});
