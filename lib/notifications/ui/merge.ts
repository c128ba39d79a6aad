/**
 * Pure helpers of the browser inbox: merging two versions of one item, ordering, which
 * items a view shows, and which of two channel positions is newer.
 *
 * @module
 */
import type { Position } from "../../protocol/position.ts";
import type { Notification } from "../types.ts";

/** The inbox views: everything not archived, the unread among them, the archived. */
export type InboxFilter = "all" | "unread" | "archived";

/** Where a message sits in the `user:{id}` channel (the protocol's {@linkcode Position}). */
export type ChannelPosition = Position;

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/**
 * Two versions of one item as one. A version updated later (a grouped item absorbed
 * another: new text, new count, and unseen and unread again) replaces the older one
 * whole. Between versions of the same update, seen, read and archived only ever get set,
 * so the merge keeps each once either has it: a late or replayed copy never undoes a
 * newer state, and the same change applied twice, from the socket and from a sibling
 * tab, changes nothing.
 */
export function mergeItem(a: Notification, b: Notification): Notification {
  if (a.updatedAt !== b.updatedAt) return a.updatedAt > b.updatedAt ? a : b;
  const merged: Notification = {
    ...(b.count >= a.count ? b : a),
    count: Math.max(a.count, b.count),
  };
  const seenAt = earliest(a.seenAt, b.seenAt);
  const readAt = earliest(a.readAt, b.readAt);
  const archivedAt = earliest(a.archivedAt, b.archivedAt);
  if (seenAt !== undefined) merged.seenAt = seenAt;
  else delete merged.seenAt;
  if (readAt !== undefined) merged.readAt = readAt;
  else delete merged.readAt;
  if (archivedAt !== undefined) merged.archivedAt = archivedAt;
  else delete merged.archivedAt;
  return merged;
}

/** Whether two versions of an item show the same thing (no re-render needed). */
export function sameItem(a: Notification, b: Notification): boolean {
  return a.updatedAt === b.updatedAt && a.count === b.count && a.seenAt === b.seenAt &&
    a.readAt === b.readAt && a.archivedAt === b.archivedAt && a.title === b.title &&
    a.body === b.body;
}

/** Newest first: ids sort in creation order (ULID-like), so by id, descending. */
export function compareNewestFirst(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}

/** Whether `item` belongs in the view `filter` as it is now. */
export function belongsTo(item: Notification, filter: InboxFilter): boolean {
  if (filter === "archived") return item.archivedAt !== undefined;
  if (item.archivedAt !== undefined) return false;
  return filter === "all" || item.readAt === undefined;
}

/**
 * Whether `next` is a newer position than `last` (or `last` is unknown). A new epoch
 * (the channel's history was lost, offsets start again) counts as newer.
 */
export function isNewer(next: ChannelPosition, last: ChannelPosition | null): boolean {
  if (!last) return true;
  if (next.epoch !== last.epoch) return true;
  return next.offset > last.offset;
}
