/**
 * The messages of `user:{userId}` ({@linkcode InboxEvent}): built from what the store
 * did, cut so each stays well under the bus's message limit (many changed items become
 * several `updated` messages, each with the final counts).
 *
 * @module
 */
import type { InboxEvent, Notification, NotificationCounts } from "./types.ts";

/** Bytes of items per `updated` message at most (the bus takes 60 KiB per message). */
export const MAX_EVENT_ITEM_BYTES = 40 * 1024;
/** Items per `updated` message at most. */
export const MAX_EVENT_ITEMS = 100;

const utf8 = new TextEncoder();

/** `updated` messages carrying `items` (cut by size and count), or one `counts` when none. */
export function changeEvents(
  items: Notification[],
  counts: NotificationCounts,
  rev: number,
): InboxEvent[] {
  if (items.length === 0) return [{ type: "counts", counts, rev }];
  const events: InboxEvent[] = [];
  let chunk: Notification[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = utf8.encode(JSON.stringify(item)).length;
    if (
      chunk.length > 0 && (bytes + size > MAX_EVENT_ITEM_BYTES || chunk.length >= MAX_EVENT_ITEMS)
    ) {
      events.push({ type: "updated", items: chunk, counts, rev });
      chunk = [];
      bytes = 0;
    }
    chunk.push(item);
    bytes += size;
  }
  events.push({ type: "updated", items: chunk, counts, rev });
  return events;
}
