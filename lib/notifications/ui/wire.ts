/**
 * Validation of what the browser receives about notifications — the `data` of messages on
 * `user:{userId}` ({@linkcode InboxEvent}) and the answers of `/api/notifications` — with
 * `zod/mini` to keep the island bundle small. Anything that does not fit is `null`: the
 * caller drops and counts it, and the page goes on. A `link` that is not a same-origin
 * path is removed (the item stays), so no message can send a click elsewhere.
 *
 * @module
 */
import * as z from "zod/mini";
import type {
  InboxEvent,
  InboxPage,
  Notification,
  NotificationCounts,
  NotificationPreferences,
} from "../types.ts";

/** Items accepted in one page or one `updated` event (more is not an answer of this app). */
export const MAX_ITEMS_PER_MESSAGE = 500;
/** Longest title / body shown (longer ones are cut, not rejected). */
export const MAX_TITLE_CHARS = 200;
export const MAX_BODY_CHARS = 2_000;

const CATEGORIES = ["price_alert", "wallet", "system", "mention"] as const;
/** Priorities, lowest first. */
export const PRIORITIES = ["low", "normal", "high", "critical"] as const;

const count = () => z.number().check(z.int(), z.gte(0));
const time = () => z.number().check(z.gte(0));

const counts = z.object({ unseen: count(), unread: count() });

const item = z.object({
  id: z.string().check(z.minLength(1), z.maxLength(64)),
  category: z.enum(CATEGORIES),
  priority: z.enum(PRIORITIES),
  title: z.string().check(z.maxLength(4 * MAX_TITLE_CHARS)),
  body: z.string().check(z.maxLength(4 * MAX_BODY_CHARS)),
  data: z.optional(z.record(z.string(), z.unknown())),
  link: z.optional(z.string().check(z.maxLength(2_048))),
  createdAt: time(),
  updatedAt: z.optional(time()),
  seenAt: z.optional(z.nullable(time())),
  readAt: z.optional(z.nullable(time())),
  archivedAt: z.optional(z.nullable(time())),
  groupKey: z.optional(z.string().check(z.maxLength(200))),
  count: z.optional(z.number().check(z.int(), z.gte(1))),
});

const items = z.array(z.unknown()).check(z.maxLength(MAX_ITEMS_PER_MESSAGE));

/** A same-origin path (`/markets/BTC-USD`, `/wallet?tx=0x…`): no scheme, no `//host`. */
const SAFE_LINK = /^\/(?![/\\])[^\s\\]*$/;

/** Whether `link` may be followed from the inbox (a same-origin path). */
export function isSafeLink(link: string): boolean {
  return SAFE_LINK.test(link);
}

/** A {@linkcode Notification}, or `null` when `data` is not one. */
export function parseNotification(data: unknown): Notification | null {
  const r = item.safeParse(data);
  if (!r.success) return null;
  const v = r.data;
  const n: Notification = {
    id: v.id,
    category: v.category,
    priority: v.priority,
    title: v.title.slice(0, MAX_TITLE_CHARS),
    body: v.body.slice(0, MAX_BODY_CHARS),
    data: v.data ?? {},
    createdAt: v.createdAt,
    updatedAt: v.updatedAt ?? v.createdAt,
    count: v.count ?? 1,
  };
  if (v.link !== undefined && isSafeLink(v.link)) n.link = v.link;
  if (typeof v.seenAt === "number") n.seenAt = v.seenAt;
  if (typeof v.readAt === "number") n.readAt = v.readAt;
  if (typeof v.archivedAt === "number") n.archivedAt = v.archivedAt;
  if (v.groupKey !== undefined) n.groupKey = v.groupKey;
  return n;
}

/** {@linkcode NotificationCounts}, or `null`. */
export function parseCounts(data: unknown): NotificationCounts | null {
  const r = counts.safeParse(data);
  return r.success ? r.data : null;
}

function parseItems(list: unknown): Notification[] | null {
  const r = items.safeParse(list);
  if (!r.success) return null;
  const out: Notification[] = [];
  for (const raw of r.data) {
    const n = parseNotification(raw);
    if (n) out.push(n);
  }
  return out;
}

/** An inbox revision: a non-negative integer, or undefined when absent or invalid. */
function revOf(v: unknown): number | undefined {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

/** An {@linkcode InboxEvent} (a message of `user:{userId}`), or `null`. */
export function parseInboxEvent(data: unknown): InboxEvent | null {
  if (!data || typeof data !== "object") return null;
  const d = data as Record<string, unknown>;
  const c = parseCounts(d.counts);
  if (!c) return null;
  const rev = revOf(d.rev);
  const withRev = rev === undefined ? {} : { rev };
  switch (d.type) {
    case "notification": {
      const n = parseNotification(d.item);
      return n ? { type: "notification", item: n, counts: c, ...withRev } : null;
    }
    case "updated": {
      const list = parseItems(d.items);
      return list ? { type: "updated", items: list, counts: c, ...withRev } : null;
    }
    case "counts":
      return { type: "counts", counts: c, ...withRev };
    default:
      return null;
  }
}

/** An {@linkcode InboxPage} (`GET /api/notifications`), or `null`. */
export function parseInboxPage(data: unknown): InboxPage | null {
  if (!data || typeof data !== "object") return null;
  const d = data as Record<string, unknown>;
  const c = parseCounts(d.counts);
  const list = parseItems(d.items);
  const next = d.next;
  if (!c || !list) return null;
  if (next !== null && next !== undefined && (typeof next !== "string" || next.length > 512)) {
    return null;
  }
  const rev = revOf(d.rev);
  return {
    items: list,
    counts: c,
    next: typeof next === "string" && next ? next : null,
    ...(rev === undefined ? {} : { rev }),
  };
}

const preferences = z.object({
  muted: z.array(z.enum(CATEGORIES)).check(z.maxLength(CATEGORIES.length)),
  minPriority: z.enum(PRIORITIES),
});

/** {@linkcode NotificationPreferences}, or `null`. */
export function parsePreferences(data: unknown): NotificationPreferences | null {
  const r = preferences.safeParse(data);
  return r.success ? { muted: [...new Set(r.data.muted)], minPriority: r.data.minPriority } : null;
}
