/**
 * The notification contract shared by the store, the delivery, the HTTP API, the
 * `user:{id}` channel and the NotificationCenter island (docs/NOTIFICATIONS.md).
 */

export type NotificationCategory = "price_alert" | "wallet" | "system" | "mention";
export type NotificationPriority = "low" | "normal" | "high" | "critical";

/** One inbox item. Times are ms since the epoch. */
export interface Notification {
  /** Sortable, unique per user: newer ids sort after older ones (ULID-like). */
  id: string;
  category: NotificationCategory;
  priority: NotificationPriority;
  title: string;
  body: string;
  /** Small JSON object for the UI (e.g. `{ symbol, price }`), bounded in size. */
  data: Record<string, unknown>;
  /** Same-origin path to follow, e.g. `/markets/BTC-USD` or `/wallet?tx=0x…`. */
  link?: string;
  createdAt: number;
  /** Last time a grouped item absorbed another (equals createdAt otherwise). */
  updatedAt: number;
  seenAt?: number;
  readAt?: number;
  archivedAt?: number;
  /** Low-priority items with the same key within the window become one item. */
  groupKey?: string;
  /** How many notifications this item stands for (1 unless grouped). */
  count: number;
}

/** Counts kept by the server and sent with every change. */
export interface NotificationCounts {
  unseen: number;
  unread: number;
}

/** What a producer enqueues. */
export interface NotificationInput {
  userId: string;
  category: NotificationCategory;
  priority: NotificationPriority;
  title: string;
  body: string;
  data?: Record<string, unknown>;
  link?: string;
  groupKey?: string;
  /** Delivery is exactly once per (userId, idempotencyKey). */
  idempotencyKey: string;
}

/** A user's preferences. */
export interface NotificationPreferences {
  /** Categories not delivered at all. */
  muted: NotificationCategory[];
  /** Items below this priority are not delivered. */
  minPriority: NotificationPriority;
}

/**
 * Messages on `user:{userId}` (the `data` of each message). `rev` (additive) is the inbox's
 * revision after the change: it grows by one with every committed change of the inbox, so a
 * client that already applied a higher `rev` can ignore the `counts` of an older message
 * (two isolates may publish their changes in the other order).
 */
export type InboxEvent =
  | { type: "notification"; item: Notification; counts: NotificationCounts; rev?: number }
  | { type: "updated"; items: Notification[]; counts: NotificationCounts; rev?: number }
  | { type: "counts"; counts: NotificationCounts; rev?: number };

/** `GET /api/notifications` answer. */
export interface InboxPage {
  items: Notification[];
  counts: NotificationCounts;
  /**
   * Cursor for the next (older) page; null at the end. A cursor is an item id: a page read
   * with `cursor=<id>` holds the items older than that id, so items arriving meanwhile
   * (newer ids) never shift a page. `POST /api/notifications/read { all: true, before }`
   * takes the id of the newest item the user has in view (inclusive).
   */
  next: string | null;
  /** The inbox revision these counts belong to (see {@linkcode InboxEvent}); additive. */
  rev?: number;
}
