/**
 * Bounds and validation of everything that enters the notification store: what producers
 * enqueue ({@linkcode parseNotificationInput}), the preferences a user saves and the bodies
 * of `/api/notifications/*`. A value that does not fit is refused with the field and the
 * reason, never stored.
 *
 * @module
 */
import { z } from "zod";
import type {
  NotificationCategory,
  NotificationInput,
  NotificationPreferences,
  NotificationPriority,
} from "./types.ts";

/** Items kept per user (the newest). */
export const MAX_INBOX_ITEMS = 500;
/** Items older than this are removed, ms (30 days). */
export const RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
/** Default window in which low-priority items with the same `groupKey` become one, ms. */
export const DEFAULT_GROUP_WINDOW_MS = 60_000;
/** Default new items per user and minute; beyond it items collapse into one per category. */
export const DEFAULT_RATE_PER_MINUTE = 60;
export const MAX_TITLE_CHARS = 200;
export const MAX_BODY_CHARS = 2_000;
/** Largest `data`, bytes of its JSON. */
export const MAX_DATA_BYTES = 2_048;
export const MAX_LINK_CHARS = 512;
export const MAX_GROUP_KEY_CHARS = 128;
export const MAX_IDEMPOTENCY_KEY_CHARS = 200;
export const MAX_USER_ID_CHARS = 64;
/** Ids accepted by one `seen` / `read` / `archive` request. */
export const MAX_IDS_PER_REQUEST = 100;
/** Largest body of a `/api/notifications/*` request, bytes. */
export const MAX_REQUEST_BYTES = 8 * 1024;
/** Items per page: default and most. */
export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;

export const CATEGORIES = ["price_alert", "wallet", "system", "mention"] as const;
/** Priorities, lowest first. */
export const PRIORITIES = ["low", "normal", "high", "critical"] as const;

/** The rank of a priority (low 0 … critical 3). */
export function priorityRank(p: NotificationPriority): number {
  return PRIORITIES.indexOf(p);
}

/** A same-origin path (`/markets/BTC-USD`, `/wallet?tx=0x…`): no scheme, no `//host`. */
export const SAFE_LINK = /^\/(?![/\\])[^\s\\]*$/;

const utf8 = new TextEncoder();

/** True when `s` holds no control character (tab, line feed and carriage return allowed). */
export function noControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return false;
  }
  return true;
}

const dataSchema = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch {
    ctx.addIssue({ code: "custom", message: "must be JSON" });
    return;
  }
  if (utf8.encode(text).length > MAX_DATA_BYTES) {
    ctx.addIssue({ code: "custom", message: `must be at most ${MAX_DATA_BYTES} bytes of JSON` });
  }
});

/** The schema of a {@linkcode NotificationInput}. */
export const notificationInputSchema = z.object({
  userId: z.string().min(1).max(MAX_USER_ID_CHARS),
  category: z.enum(CATEGORIES),
  priority: z.enum(PRIORITIES),
  title: z.string().min(1).max(MAX_TITLE_CHARS).refine(
    noControl,
    "must not hold control characters",
  ),
  body: z.string().max(MAX_BODY_CHARS),
  data: dataSchema.optional(),
  link: z.string().max(MAX_LINK_CHARS).regex(SAFE_LINK, "must be a same-origin path").optional(),
  groupKey: z.string().min(1).max(MAX_GROUP_KEY_CHARS).optional(),
  idempotencyKey: z.string().min(1).max(MAX_IDEMPOTENCY_KEY_CHARS),
}).strict();

/** Why a value was refused: the first failing field and its reason. */
export class NotificationInputError extends Error {
  constructor(readonly field: string, readonly reason: string) {
    super(`Cannot accept the notification: ${field || "the value"} ${reason}`);
    this.name = "NotificationInputError";
  }
}

/** The first issue of a zod error as `{ field, reason }`. */
export function firstIssue(error: z.ZodError): { field: string; reason: string } {
  const issue = error.issues[0];
  return {
    field: issue?.path.map(String).join(".") ?? "",
    reason: issue?.message ?? "is invalid",
  };
}

/** Validates what a producer enqueues; throws {@linkcode NotificationInputError}. */
export function parseNotificationInput(value: unknown): NotificationInput {
  const r = notificationInputSchema.safeParse(value);
  if (!r.success) {
    const { field, reason } = firstIssue(r.error);
    throw new NotificationInputError(field, reason);
  }
  return r.data;
}

/** The schema of {@linkcode NotificationPreferences} as `PUT` accepts it. */
export const preferencesSchema = z.object({
  muted: z.array(z.enum(CATEGORIES)).max(CATEGORIES.length),
  minPriority: z.enum(PRIORITIES),
}).strict();

/** What a user has before saving any. */
export const DEFAULT_PREFERENCES: NotificationPreferences = { muted: [], minPriority: "low" };

/** Whether `prefs` let an item of `category` and `priority` through. */
export function allowedBy(
  prefs: NotificationPreferences,
  category: NotificationCategory,
  priority: NotificationPriority,
): boolean {
  return !prefs.muted.includes(category) &&
    priorityRank(priority) >= priorityRank(prefs.minPriority);
}

const idSchema = z.string().min(1).max(64);

/** `{ ids }` of `seen`, `read` and `archive`. */
export const idsBodySchema = z.object({
  ids: z.array(idSchema).min(1).max(MAX_IDS_PER_REQUEST),
}).strict();

/**
 * `{ all: true, before? }` of `read`: `before` is the id of the newest item the user has in
 * view (inclusive); without it, everything there is when the request arrives.
 */
export const readAllBodySchema = z.object({
  all: z.literal(true),
  before: idSchema.optional(),
}).strict();

/** The filters of `GET /api/notifications`. */
export type InboxFilter = "all" | "unread" | "archived";
