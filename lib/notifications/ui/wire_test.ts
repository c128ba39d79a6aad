import { deepEqual, equal } from "node:assert/strict";
import { isSafeLink, parseInboxEvent, parseInboxPage, parseNotification } from "./wire.ts";

const item = {
  id: "01J0000000000000000000000A",
  category: "price_alert",
  priority: "high",
  title: "BTC-USD crossed above $70,000",
  body: "Now $70,012.35",
  data: { symbol: "BTC-USD" },
  link: "/markets/BTC-USD",
  createdAt: 1,
  updatedAt: 2,
  count: 1,
};

Deno.test("[notifications/ui] wire: items, links, events, pages", () => {
  deepEqual(parseNotification(item), item);
  equal(parseNotification({ ...item, priority: "urgent" }), null);
  equal(parseNotification({ ...item, count: 0 }), null);
  equal(parseNotification({ ...item, createdAt: "1" }), null);
  // Defaults for what may be left out; null times are "not yet".
  const bare = parseNotification({ ...item, updatedAt: undefined, count: undefined, readAt: null });
  equal(bare?.updatedAt, 1);
  equal(bare?.count, 1);
  equal(bare && "readAt" in bare, false);
  // Only same-origin paths are links.
  for (const bad of ["https://evil.example", "//evil.example", "/\\evil", "javascript:alert(1)"]) {
    equal(isSafeLink(bad), false, bad);
    equal(parseNotification({ ...item, link: bad })?.link, undefined);
  }
  equal(isSafeLink("/wallet?tx=0xabc"), true);
  // Long text is cut, not refused.
  equal(parseNotification({ ...item, title: "x".repeat(500) })?.title.length, 200);

  const counts = { unseen: 1, unread: 2 };
  deepEqual(parseInboxEvent({ type: "counts", counts }), { type: "counts", counts });
  equal(parseInboxEvent({ type: "notification", item, counts: { unseen: 1 } }), null);
  equal(parseInboxEvent({ type: "other", counts }), null);
  const updated = parseInboxEvent({ type: "updated", items: [item, { id: 1 }], counts });
  equal(updated?.type === "updated" && updated.items.length, 1, "an invalid item is skipped");
  equal(parseInboxEvent({ type: "updated", items: new Array(501).fill(item), counts }), null);

  deepEqual(parseInboxPage({ items: [item], counts, next: "c1" }), {
    items: [item],
    counts,
    next: "c1",
  });
  equal(parseInboxPage({ items: [item], counts, next: "" })?.next, null);
  equal(parseInboxPage({ items: [item], counts, next: 5 }), null);
  equal(parseInboxPage({ items: "x", counts, next: null }), null);
});
