/**
 * System announcements: a message on the `system` channel (only admins may publish there)
 * becomes one `system` notification in every account's inbox. Every isolate sees the bus
 * message and enqueues the same fan-out job (idempotency key `system:{epoch}:{offset}`),
 * so exactly one fan-out runs; it walks the accounts in batches, each batch a job that
 * enqueues one delivery per account and then the next batch.
 *
 * @module
 */
import type { BusMessage } from "../bus/engine.ts";
import { MAX_BODY_CHARS, MAX_TITLE_CHARS, PRIORITIES, SAFE_LINK } from "./schema.ts";
import type { NotificationPriority } from "./types.ts";

/** The `system` channel. */
export const SYSTEM_CHANNEL = "system";

/** One announcement to deliver to everyone. */
export interface Announcement {
  /** Unique per announcement; the idempotency key of every delivery. */
  key: string;
  title: string;
  body: string;
  priority: NotificationPriority;
  link?: string;
}

/** A fan-out job: deliver `announcement` to the accounts after `after`. */
export interface FanoutJob {
  announcement: Announcement;
  /** The last user id of the previous batch, null for the first. */
  after: string | null;
  /** 0 for the first batch. */
  batch: number;
}

function text(value: unknown, max: number): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim().slice(0, max) : undefined;
}

/**
 * The announcement a `system` message stands for, or null when it carries nothing to
 * show. `data` may be a string (the body) or `{ title?, body? | text? | message?,
 * priority?, link? }`; the priority defaults to `high`, a link must be a same-origin path.
 */
export function announcementOf(message: BusMessage): Announcement | null {
  if (message.channel !== SYSTEM_CHANNEL) return null;
  const key = `system:${message.epoch}:${message.offset}`;
  const data = message.data;
  if (typeof data === "string") {
    const body = text(data, MAX_BODY_CHARS);
    return body ? { key, title: "Announcement", body, priority: "high" } : null;
  }
  if (!data || typeof data !== "object" || Array.isArray(data)) return null;
  const d = data as Record<string, unknown>;
  const title = text(d.title, MAX_TITLE_CHARS);
  const body = text(d.body, MAX_BODY_CHARS) ?? text(d.text, MAX_BODY_CHARS) ??
    text(d.message, MAX_BODY_CHARS);
  if (!title && !body) return null;
  const priority = PRIORITIES.includes(d.priority as NotificationPriority)
    ? d.priority as NotificationPriority
    : "high";
  const out: Announcement = { key, title: title ?? "Announcement", body: body ?? "", priority };
  if (typeof d.link === "string" && d.link.length <= 512 && SAFE_LINK.test(d.link)) {
    out.link = d.link;
  }
  return out;
}
