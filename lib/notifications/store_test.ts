import { deepEqual, equal, ok } from "node:assert/strict";
import { notifItemPrefix } from "../kv/keys.ts";
import { createInboxStore, type InboxStore } from "./store.ts";
import type { Notification, NotificationInput } from "./types.ts";

const USER = "u1";

function input(n: number, extra: Partial<NotificationInput> = {}): NotificationInput {
  return {
    userId: USER,
    category: "price_alert",
    priority: "normal",
    title: `Item ${n}`,
    body: `Body ${n}`,
    idempotencyKey: `k${n}`,
    ...extra,
  };
}

async function stored(kv: Deno.Kv, userId = USER): Promise<Notification[]> {
  const out: Notification[] = [];
  for await (const e of kv.list<Notification>({ prefix: notifItemPrefix(userId) })) {
    out.push(e.value);
  }
  return out;
}

/** The head's counts must equal what the items say. */
async function assertCountsExact(kv: Deno.Kv, store: InboxStore) {
  const items = await stored(kv);
  const live = items.filter((i) => i.archivedAt === undefined);
  const counts = await store.counts(USER);
  deepEqual(
    { unseen: counts.unseen, unread: counts.unread },
    {
      unseen: live.filter((i) => i.seenAt === undefined).length,
      unread: live.filter((i) => i.readAt === undefined).length,
    },
    "counts match the items",
  );
}

function setup(
  options: Parameters<typeof createInboxStore>[0] extends infer O ? Partial<O> : never = {},
) {
  let t = 1_700_000_000_000;
  const clock = { now: () => t, advance: (ms: number) => t += ms };
  return (async () => {
    const kv = await Deno.openKv(":memory:");
    const store = createInboxStore({ kv, now: clock.now, ...options });
    return { kv, store, clock };
  })();
}

Deno.test("[notifications] deliver, duplicate, seen ≠ read ≠ archived, unknown ids reported", async () => {
  const { kv, store } = await setup();
  try {
    const a = await store.deliver(input(1));
    equal(a.kind, "created");
    const b = await store.deliver(input(2, { priority: "high" }));
    equal(b.kind, "created");
    const again = await store.deliver(input(1));
    equal(again.kind, "duplicate");
    if (again.kind !== "duplicate" || a.kind !== "created" || b.kind !== "created") return;
    equal(again.item?.id, a.item.id);
    ok(b.item.id > a.item.id, "newer ids sort after older ones");
    deepEqual(again.counts, { unseen: 2, unread: 2 });
    equal((await stored(kv)).length, 2, "a repeated key stores nothing");

    const seen = await store.markSeen(USER, [a.item.id, "nope"]);
    deepEqual(seen.updated.map((i) => i.id), [a.item.id]);
    deepEqual(seen.unknown, ["nope"]);
    deepEqual(seen.counts, { unseen: 1, unread: 2 }, "seen is not read");
    const seenAgain = await store.markSeen(USER, [a.item.id]);
    deepEqual(seenAgain.updated, [], "no change, no update");
    equal(seenAgain.rev, seen.rev, "no commit without a change");

    const read = await store.markRead(USER, [b.item.id]);
    deepEqual(read.counts, { unseen: 0, unread: 1 }, "read implies seen");
    ok(read.updated[0].seenAt !== undefined);

    const archived = await store.archive(USER, [a.item.id]);
    deepEqual(archived.counts, { unseen: 0, unread: 0 }, "archived items leave the counts");
    const all = await store.list(USER);
    deepEqual(all.items.map((i) => i.id), [b.item.id]);
    const arch = await store.list(USER, { filter: "archived" });
    deepEqual(arch.items.map((i) => i.id), [a.item.id]);
    equal((await store.list(USER, { filter: "unread" })).items.length, 0);
    await assertCountsExact(kv, store);
  } finally {
    kv.close();
  }
});

Deno.test("[notifications] pages stay stable while items arrive between them", async () => {
  const { kv, store, clock } = await setup();
  try {
    for (let i = 0; i < 25; i++) {
      await store.deliver(input(i));
      clock.advance(i % 3 === 0 ? 0 : 1); // several items share a millisecond
    }
    const seen: string[] = [];
    let page = await store.list(USER, { limit: 10 });
    seen.push(...page.items.map((i) => i.id));
    let arrivals = 100;
    while (page.next) {
      for (let k = 0; k < 4; k++) await store.deliver(input(arrivals++)); // newer than any cursor
      page = await store.list(USER, { limit: 10, cursor: page.next });
      seen.push(...page.items.map((i) => i.id));
    }
    equal(seen.length, 25, "every original item once");
    equal(new Set(seen).size, 25, "no duplicates");
    deepEqual(seen, seen.toSorted().reverse(), "newest first, in order");
    const titles = new Set(
      (await stored(kv)).filter((i) => seen.includes(i.id)).map((i) => i.title),
    );
    for (let i = 0; i < 25; i++) ok(titles.has(`Item ${i}`), `Item ${i} was listed`);
    const top = await store.list(USER, { limit: 5 });
    ok(top.items.every((i) => Number(i.title.split(" ")[1]) >= 100), "new items are on top");
  } finally {
    kv.close();
  }
});

Deno.test("[notifications] mark all read leaves what arrived meanwhile unread; counts exact", async () => {
  const { kv, store } = await setup();
  try {
    for (let i = 0; i < 30; i++) await store.deliver(input(i));
    const view = await store.list(USER, { limit: 5 });
    const before = view.items[0].id;
    // New items arrive while "mark all read" runs.
    const arriving = (async () => {
      for (let i = 100; i < 120; i++) await store.deliver(input(i));
    })();
    const result = await store.markAllRead(USER, before);
    await arriving;
    equal(result.updated.length, 30, "exactly the items up to the one in view");
    ok(result.updated.every((i) => i.id <= before));
    const items = await stored(kv);
    const unread = items.filter((i) => i.readAt === undefined);
    equal(unread.length, 20, "the 20 that arrived stay unread");
    ok(unread.every((i) => i.id > before));
    const counts = await store.counts(USER);
    equal(counts.unread, 20);
    await assertCountsExact(kv, store);
  } finally {
    kv.close();
  }
});

Deno.test("[notifications] grouping: low items of one key within the window; critical bypasses", async () => {
  const { kv, store, clock } = await setup({ groupWindowMs: 60_000 });
  try {
    const low = { priority: "low" as const, groupKey: "g" };
    const first = await store.deliver(input(1, low));
    equal(first.kind, "created");
    await store.markRead(USER, [(first as { item: Notification }).item.id]);
    clock.advance(10_000);
    const second = await store.deliver(input(2, low));
    equal(second.kind, "grouped");
    clock.advance(10_000);
    const third = await store.deliver(input(3, low));
    equal(third.kind, "grouped");
    if (third.kind !== "grouped") return;
    equal(third.item.count, 3);
    equal(third.item.body, "Body 3", "the newest body");
    equal(third.item.readAt, undefined, "a grouped item is unread again");
    deepEqual(third.counts, { unseen: 1, unread: 1 });
    clock.advance(45_000); // the window (from the group's first item) has ended
    equal((await store.deliver(input(4, low))).kind, "created");
    equal((await store.deliver(input(5, { priority: "critical", groupKey: "g" }))).kind, "created");
    equal((await store.deliver(input(6, { priority: "critical", groupKey: "g" }))).kind, "created");
    equal((await store.deliver(input(7, { priority: "normal", groupKey: "g" }))).kind, "created");
    equal((await stored(kv)).length, 5);
    await assertCountsExact(kv, store);
  } finally {
    kv.close();
  }
});

Deno.test("[notifications] a producer flood collapses beyond the rate; the inbox stays bounded", async () => {
  const { kv, store, clock } = await setup({ ratePerMinute: 5, maxItems: 12 });
  try {
    for (let i = 0; i < 40; i++) await store.deliver(input(i));
    let items = await stored(kv);
    equal(items.length, 6, "5 items and one collapsed item");
    const flood = items.find((i) => i.groupKey === "flood:price_alert");
    ok(flood, "the collapsed item");
    equal(flood.count, 35);
    equal(flood.body, "Item 39", "names the newest");
    clock.advance(60_000);
    for (let i = 100; i < 110; i++) await store.deliver(input(i));
    items = await stored(kv);
    ok(items.length <= 12, `bounded: ${items.length}`);
    equal((await store.counts(USER)).unread, items.length);
    await assertCountsExact(kv, store);
  } finally {
    kv.close();
  }
});

Deno.test("[notifications] retention and the bound remove the oldest, counts follow", async () => {
  const { kv, store, clock } = await setup({ maxItems: 10, retentionMs: 1_000_000 });
  try {
    for (let i = 0; i < 15; i++) await store.deliver(input(i));
    const items = await stored(kv);
    equal(items.length, 10);
    deepEqual(items.map((i) => i.title), Array.from({ length: 10 }, (_, i) => `Item ${i + 5}`));
    await assertCountsExact(kv, store);
    clock.advance(1_000_001);
    const page = await store.list(USER);
    equal(page.items.length, 0, "expired items are gone");
    ok(page.trimmed);
    deepEqual(page.counts, { unseen: 0, unread: 0 });
    equal((await stored(kv)).length, 0);
  } finally {
    kv.close();
  }
});

Deno.test("[notifications] preferences: a muted category and a minimum priority are not delivered", async () => {
  const { kv, store } = await setup();
  try {
    deepEqual(await store.preferences(USER), { muted: [], minPriority: "low" });
    await store.setPreferences(USER, { muted: ["wallet"], minPriority: "normal" });
    deepEqual(await store.deliver(input(1, { category: "wallet" })), {
      kind: "filtered",
      reason: "muted",
    });
    deepEqual(await store.deliver(input(2, { priority: "low" })), {
      kind: "filtered",
      reason: "priority",
    });
    equal((await store.deliver(input(3, { priority: "high" }))).kind, "created");
    equal((await stored(kv)).length, 1);
    equal(await store.deleteAll(USER) >= 3, true, "head, item, idem and prefs removed");
    deepEqual(await store.preferences(USER), { muted: [], minPriority: "low" });
  } finally {
    kv.close();
  }
});

Deno.test("[notifications] concurrent changes of one inbox keep the counts exact", async () => {
  const { kv, store } = await setup();
  try {
    const created = await Promise.all(
      Array.from({ length: 40 }, (_, i) => store.deliver(input(i))),
    );
    const ids = created.map((c) => (c as { item: Notification }).item.id);
    await Promise.all([
      store.markSeen(USER, ids.slice(0, 20)),
      store.markRead(USER, ids.slice(10, 30)),
      store.archive(USER, ids.slice(25, 35)),
      ...Array.from({ length: 10 }, (_, i) => store.deliver(input(100 + i))),
    ]);
    await assertCountsExact(kv, store);
    equal((await stored(kv)).length, 50);
  } finally {
    kv.close();
  }
});

Deno.test("[notifications] deliverMany: one commit per user; repeats, groups and the flood inside one batch", async () => {
  const { kv, store } = await setup({ ratePerMinute: 30 });
  try {
    const batch: NotificationInput[] = [
      ...Array.from({ length: 40 }, (_, i) => input(i)),
      input(3), // a repeat within the batch
      ...Array.from({ length: 5 }, (_, i) => input(100 + i, { priority: "low", groupKey: "g" })),
      input(200, { userId: "u2" }),
    ];
    const before = (await store.counts(USER)).rev;
    const out = await store.deliverMany(batch);
    equal(out.length, batch.length);
    equal(out[40].kind, "duplicate");
    equal(
      out.filter((o) => o.kind === "created").length,
      30 + 1 + 1,
      "30 within the rate, a flood item, u2's",
    );
    const items = await stored(kv);
    const flood = items.find((i) => i.groupKey === "flood:price_alert")!;
    equal(flood.count, 10 + 5, "the rest of the batch collapsed (the low ones too)");
    ok(
      (await store.counts(USER)).rev - before <= 2,
      "two commits for 46 deliveries (chunks of 40)",
    );
    await assertCountsExact(kv, store);
    const again = await store.deliverMany(batch);
    ok(again.every((o) => o.kind === "duplicate"), "the same batch again changes nothing");
    equal((await stored(kv)).length, items.length);
  } finally {
    kv.close();
  }
});
