import { deepEqual, equal } from "node:assert/strict";
import type { Notification } from "../types.ts";
import { belongsTo, compareNewestFirst, isNewer, mergeItem } from "./merge.ts";

const base: Notification = {
  id: "a",
  category: "system",
  priority: "low",
  title: "t",
  body: "",
  data: {},
  createdAt: 1,
  updatedAt: 1,
  count: 1,
};

Deno.test("[notifications/ui] merge: states only get set; a later update replaces", () => {
  const read = { ...base, readAt: 5, seenAt: 4 };
  equal(mergeItem(read, base).readAt, 5, "a stale copy cannot unread");
  equal(mergeItem(base, read).readAt, 5, "either order");
  equal(mergeItem({ ...base, readAt: 7 }, { ...base, readAt: 5 }).readAt, 5, "the first time");
  deepEqual(mergeItem({ ...base, seenAt: 3 }, { ...base, archivedAt: 6 }), {
    ...base,
    seenAt: 3,
    archivedAt: 6,
  });
  // Grouped: it absorbed another after it was read, so it is unread again.
  const grouped = { ...base, updatedAt: 9, count: 3, title: "t ×3" };
  deepEqual(mergeItem(read, grouped), grouped);
  deepEqual(mergeItem(grouped, read), grouped, "order does not matter");
});

Deno.test("[notifications/ui] merge: views, order, positions", () => {
  equal(belongsTo(base, "all"), true);
  equal(belongsTo({ ...base, readAt: 1 }, "unread"), false);
  equal(belongsTo({ ...base, archivedAt: 1 }, "all"), false);
  equal(belongsTo({ ...base, archivedAt: 1 }, "archived"), true);
  deepEqual(["01A", "01C", "01B"].sort(compareNewestFirst), ["01C", "01B", "01A"]);
  equal(isNewer({ epoch: "e", offset: 2 }, null), true);
  equal(isNewer({ epoch: "e", offset: 2 }, { epoch: "e", offset: 2 }), false);
  equal(isNewer({ epoch: "e", offset: 3 }, { epoch: "e", offset: 2 }), true);
  equal(isNewer({ epoch: "f", offset: 1 }, { epoch: "e", offset: 9 }), true);
});
