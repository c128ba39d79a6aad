import { deepEqual, equal, ok } from "node:assert/strict";
import type { InboxPage, Notification, NotificationCounts } from "../types.ts";
import type { InboxApi } from "./api.ts";
import { createInbox, type TabLink } from "./inbox.ts";
import type { InboxFilter } from "./merge.ts";

function item(n: number, extra: Partial<Notification> = {}): Notification {
  const id = `n${String(n).padStart(4, "0")}`;
  return {
    id,
    category: "price_alert",
    priority: "normal",
    title: `Item ${n}`,
    body: "",
    data: {},
    createdAt: 1_000 + n,
    updatedAt: 1_000 + n,
    count: 1,
    ...extra,
  };
}

interface Calls {
  list: { cursor?: string | null; filter: InboxFilter }[];
  seen: string[][];
  read: string[][];
  readAll: (string | null)[];
  archive: string[][];
}

/** An API over a list of items (newest first), pages of `size`, cursor = index. */
function fakeApi(all: () => Notification[], counts: () => NotificationCounts, size = 2) {
  const calls: Calls = { list: [], seen: [], read: [], readAll: [], archive: [] };
  let gate: Promise<void> | null = null;
  const api: InboxApi = {
    async list(q) {
      calls.list.push({ cursor: q.cursor, filter: q.filter });
      if (gate) await gate;
      const items = all().filter((i) =>
        q.filter === "archived" ? i.archivedAt !== undefined : i.archivedAt === undefined
      );
      const start = q.cursor ? Number(q.cursor) : 0;
      const page: InboxPage = {
        items: items.slice(start, start + size),
        counts: counts(),
        next: start + size < items.length ? String(start + size) : null,
      };
      return structuredClone(page);
    },
    seen: (ids) => (calls.seen.push([...ids]), Promise.resolve()),
    read: (ids) => (calls.read.push([...ids]), Promise.resolve()),
    readAll: (before) => (calls.readAll.push(before), Promise.resolve()),
    archive: (ids) => (calls.archive.push([...ids]), Promise.resolve()),
    preferences: () => Promise.reject(new Error("unused")),
    savePreferences: () => Promise.reject(new Error("unused")),
  };
  return {
    api,
    calls,
    /** Holds `list` answers until the returned function is called. */
    hold(): () => void {
      let release!: () => void;
      gate = new Promise((r) => release = r);
      return () => {
        gate = null;
        release();
      };
    },
  };
}

/** Two connected tab links (what one posts, the other hears), delivered synchronously. */
function tabPair(): [TabLink & { sent: unknown[] }, TabLink & { sent: unknown[] }] {
  const make = () => {
    const listeners = new Set<(m: unknown) => void>();
    return { listeners, sent: [] as unknown[] };
  };
  const a = make();
  const b = make();
  const link = (self: typeof a, other: typeof a) => ({
    sent: self.sent,
    post(m: unknown) {
      self.sent.push(m);
      const copy = structuredClone(m);
      for (const fn of other.listeners) fn(copy);
    },
    listen(fn: (m: unknown) => void) {
      self.listeners.add(fn);
      return () => self.listeners.delete(fn);
    },
    close() {},
  });
  return [link(a, b), link(b, a)];
}

const pos = (offset: number) => ({ epoch: "e1", offset });
const ids = (list: readonly Notification[]) => list.map((i) => i.id);

Deno.test("[notifications/ui] inbox: pages, newest first, no duplicates", async () => {
  const items = [item(5), item(4), item(3), item(2), item(1)];
  const { api, calls } = fakeApi(
    () => items,
    () => ({ unseen: items.length, unread: items.length }),
  );
  const inbox = createInbox({ api });
  await inbox.reload();
  deepEqual(ids(inbox.items.value), ["n0005", "n0004"]);
  deepEqual(inbox.counts.value, { unseen: 5, unread: 5 });
  equal(inbox.hasMore.value, true);
  await Promise.all([inbox.loadMore(), inbox.loadMore()]);
  equal(calls.list.length, 2, "one page read at a time");
  // An item arrives between pages: the next page still continues where it was.
  items.unshift(item(6));
  inbox.receive({ type: "notification", item: item(6), counts: { unseen: 6, unread: 6 } }, pos(1));
  await inbox.loadMore();
  deepEqual(ids(inbox.items.value), ["n0006", "n0005", "n0004", "n0003", "n0002", "n0001"]);
  equal(inbox.hasMore.value, false);
  deepEqual(inbox.counts.value, { unseen: 6, unread: 6 });
});

Deno.test("[notifications/ui] inbox: live items, replay shown once, bad data counted", () => {
  const { api } = fakeApi(() => [], () => ({ unseen: 0, unread: 0 }));
  const inbox = createInbox({ api });
  const arrived: string[] = [];
  inbox.onArrival((i) => arrived.push(i.id));
  const event = { type: "notification", item: item(1), counts: { unseen: 1, unread: 1 } };
  inbox.receive(event, pos(1));
  inbox.receive(event, pos(1));
  deepEqual(arrived, ["n0001"]);
  deepEqual(ids(inbox.items.value), ["n0001"]);
  inbox.receive({ type: "notification", item: { id: 5 }, counts: { unseen: 1, unread: 1 } });
  inbox.receive({ type: "counts", counts: { unseen: -1, unread: 0 } });
  inbox.receive(null);
  equal(inbox.rejected.value, 3);
  deepEqual(inbox.counts.value, { unseen: 1, unread: 1 });
  // A link that leaves the site is dropped, the item kept.
  inbox.receive({
    type: "notification",
    item: { ...item(2), link: "//evil.example/x" },
    counts: { unseen: 2, unread: 2 },
  }, pos(2));
  equal(inbox.items.value[0].link, undefined);
});

Deno.test("[notifications/ui] inbox: the newest position's counts win", () => {
  const { api } = fakeApi(() => [], () => ({ unseen: 0, unread: 0 }));
  const inbox = createInbox({ api });
  inbox.receive({ type: "counts", counts: { unseen: 3, unread: 3 } }, pos(5));
  inbox.receive({ type: "counts", counts: { unseen: 9, unread: 9 } }, pos(4));
  deepEqual(inbox.counts.value, { unseen: 3, unread: 3 }, "an older message is ignored");
  inbox.receive({ type: "counts", counts: { unseen: 1, unread: 2 } }, pos(6));
  deepEqual(inbox.counts.value, { unseen: 1, unread: 2 });
  inbox.receive({ type: "counts", counts: { unseen: 0, unread: 0 } }, { epoch: "e2", offset: 1 });
  deepEqual(inbox.counts.value, { unseen: 0, unread: 0 }, "a new epoch starts over");
});

Deno.test("[notifications/ui] inbox: the newest revision's counts win", async () => {
  let rev = 7;
  const fake = fakeApi(() => [], () => ({ unseen: 4, unread: 4 }));
  const api = {
    ...fake.api,
    list: async (q: Parameters<InboxApi["list"]>[0]) => ({ ...await fake.api.list(q), rev }),
  };
  const inbox = createInbox({ api });
  // Two isolates published in the other order: the channel order is not the revision's.
  inbox.receive({ type: "counts", counts: { unseen: 2, unread: 2 }, rev: 9 }, pos(1));
  inbox.receive({ type: "counts", counts: { unseen: 1, unread: 1 }, rev: 8 }, pos(2));
  deepEqual(inbox.counts.value, { unseen: 2, unread: 2 });
  await inbox.reload();
  deepEqual(inbox.counts.value, { unseen: 2, unread: 2 }, "a page of revision 7 is older");
  rev = 10;
  await inbox.reload();
  deepEqual(inbox.counts.value, { unseen: 4, unread: 4 });
});

Deno.test("[notifications/ui] inbox: a page read while a message arrived keeps its counts", async () => {
  const items = [item(1)];
  const fake = fakeApi(() => items, () => ({ unseen: 1, unread: 1 }));
  const inbox = createInbox({ api: fake.api });
  const release = fake.hold();
  const loading = inbox.reload();
  inbox.receive({ type: "notification", item: item(2), counts: { unseen: 2, unread: 2 } }, pos(1));
  release();
  await loading;
  deepEqual(inbox.counts.value, { unseen: 2, unread: 2 });
  deepEqual(ids(inbox.items.value), ["n0002", "n0001"], "the live item stays on top");
});

Deno.test("[notifications/ui] inbox: seen is batched, read and archive are optimistic", async () => {
  const items = [item(3), item(2), item(1, { readAt: 5, seenAt: 5 })];
  const fake = fakeApi(() => items, () => ({ unseen: 2, unread: 2 }), 10);
  const timers: (() => void)[] = [];
  const inbox = createInbox({ api: fake.api, setTimeout: (fn) => timers.push(fn), now: () => 99 });
  await inbox.reload();
  inbox.markSeen(["n0003"]);
  inbox.markSeen(["n0002", "n0003", "n0001", "nope"]);
  deepEqual(inbox.counts.value, { unseen: 0, unread: 2 });
  equal(timers.length, 1, "one batch");
  timers[0]();
  await Promise.resolve();
  deepEqual(fake.calls.seen, [["n0003", "n0002"]]);

  await inbox.markRead(["n0003", "n0001"]);
  deepEqual(fake.calls.read, [["n0003"]], "only what was unread is sent");
  deepEqual(inbox.counts.value, { unseen: 0, unread: 1 });
  equal(inbox.items.value[0].readAt, 99);

  await inbox.archive(["n0002"]);
  deepEqual(ids(inbox.items.value), ["n0003", "n0001"], "archived items leave the view");
  deepEqual(inbox.counts.value, { unseen: 0, unread: 0 }, "archived items count for nothing");
  await inbox.setFilter("archived");
  deepEqual(fake.calls.list.at(-1), { cursor: null, filter: "archived" });
});

Deno.test("[notifications/ui] inbox: mark all read up to the newest item seen", async () => {
  const items = [item(2), item(1)];
  const fake = fakeApi(() => items, () => ({ unseen: 2, unread: 2 }), 10);
  const inbox = createInbox({ api: fake.api });
  await inbox.reload();
  await inbox.markAllRead();
  deepEqual(fake.calls.readAll, ["n0002"]);
  deepEqual(inbox.counts.value, { unseen: 0, unread: 0 }, "read implies seen");
  // Arriving meanwhile: unread, with the server's counts.
  inbox.receive({ type: "notification", item: item(3), counts: { unseen: 3, unread: 1 } }, pos(9));
  equal(inbox.items.value[0].readAt, undefined);
  deepEqual(inbox.counts.value, { unseen: 3, unread: 1 });
});

Deno.test("[notifications/ui] inbox: tabs share events and acts", async () => {
  const items = [item(1)];
  const [linkA, linkB] = tabPair();
  const a = createInbox({
    api: fakeApi(() => items, () => ({ unseen: 1, unread: 1 })).api,
    tabs: linkA,
  });
  const b = createInbox({
    api: fakeApi(() => items, () => ({ unseen: 1, unread: 1 })).api,
    tabs: linkB,
  });
  await a.reload();
  await b.reload();
  const arrivedB: string[] = [];
  b.onArrival((i, source) => arrivedB.push(`${i.id}:${source}`));
  // Only A's socket hears it (B's is reconnecting): B shows it all the same.
  a.receive({ type: "notification", item: item(2), counts: { unseen: 2, unread: 2 } }, pos(3));
  deepEqual(ids(b.items.value), ["n0002", "n0001"]);
  deepEqual(b.counts.value, { unseen: 2, unread: 2 });
  deepEqual(arrivedB, ["n0002:tab"]);
  // B's socket then brings the same message: nothing changes, no second arrival.
  b.receive({ type: "notification", item: item(2), counts: { unseen: 2, unread: 2 } }, pos(3));
  deepEqual(arrivedB, ["n0002:tab"]);
  // Reading in A shows in B at once.
  await a.markRead(["n0002"]);
  ok(b.items.value[0].readAt !== undefined);
  deepEqual(b.counts.value, { unseen: 1, unread: 1 });
  // Toast notices travel too.
  const notices: string[] = [];
  b.onTabNotice((n) => notices.push(`${n.t}:${n.id}`));
  a.tell({ t: "dismiss", id: "n0002" });
  deepEqual(notices, ["dismiss:n0002"]);
  // Garbage from a tab is dropped.
  linkA.post({ t: "event", event: { type: "counts" } } as never);
  equal(b.rejected.value, 1);
  a.dispose();
  b.dispose();
});
