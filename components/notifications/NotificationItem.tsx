import type { Notification } from "../../lib/notifications/types.ts";
import { formatFull, formatRelative } from "../../lib/notifications/ui/relative_time.ts";
import { ArchiveIcon, CheckIcon } from "./icons.tsx";

/** Words for each category. */
export const CATEGORY_LABEL: Record<Notification["category"], string> = {
  price_alert: "Price alert",
  wallet: "Wallet",
  system: "System",
  mention: "Mention",
};

/** Words for the priorities worth saying (low and normal say nothing). */
export const PRIORITY_LABEL: Partial<Record<Notification["priority"], string>> = {
  high: "High",
  critical: "Critical",
};

/** Props of {@linkcode NotificationItem}. */
export interface NotificationItemProps {
  item: Notification;
  now: number;
  locale: string;
  /** Following the link or the check button. */
  onRead(item: Notification, viaLink: boolean): void;
  onArchive(item: Notification): void;
}

/**
 * One row of the inbox: priority (a coloured edge and, for high and critical, a word),
 * title (a link when the item has one: following it marks it read), body, category,
 * relative time, grouped count ("×3"), and the buttons to mark read and to archive.
 */
export function NotificationItem({ item, now, locale, onRead, onArchive }: NotificationItemProps) {
  const unread = item.readAt === undefined;
  const archived = item.archivedAt !== undefined;
  const prio = PRIORITY_LABEL[item.priority];
  const when = new Date(item.updatedAt || item.createdAt);
  return (
    <li
      class="nc-item"
      data-id={item.id}
      data-priority={item.priority}
      data-unread={unread ? "true" : "false"}
      data-unseen={item.seenAt === undefined ? "true" : "false"}
      data-testid="nc-item"
    >
      <span class="nc-dot" aria-hidden="true"></span>
      <div class="nc-main">
        <p class="nc-title">
          {item.link
            ? (
              <a href={item.link} data-nav="" onClick={() => onRead(item, true)}>
                {item.title}
              </a>
            )
            : <span data-nav="" tabIndex={-1}>{item.title}</span>}
          {item.count > 1 && (
            <span class="nc-count" data-testid="nc-count">
              <span aria-hidden="true">×{item.count}</span>
              <span class="sr-only">({item.count} notifications)</span>
            </span>
          )}
        </p>
        {item.body && <p class="nc-body">{item.body}</p>}
        <p class="nc-meta">
          {prio && <span class={`nc-tag nc-tag-${item.priority}`}>{prio}</span>}
          <span>{CATEGORY_LABEL[item.category]}</span>
          <span aria-hidden="true">·</span>
          <time dateTime={when.toISOString()} title={formatFull(when.getTime(), locale)}>
            {formatRelative(when.getTime(), now, locale)}
          </time>
          {unread && <span class="sr-only">, unread</span>}
        </p>
      </div>
      <div class="nc-actions">
        {unread && !archived && (
          <button
            type="button"
            class="nc-act"
            title="Mark read"
            aria-label={`Mark read: ${item.title}`}
            data-testid="nc-read"
            onClick={() => onRead(item, false)}
          >
            <CheckIcon />
          </button>
        )}
        {!archived && (
          <button
            type="button"
            class="nc-act"
            title="Archive"
            aria-label={`Archive: ${item.title}`}
            data-testid="nc-archive"
            onClick={() => onArchive(item)}
          >
            <ArchiveIcon />
          </button>
        )}
      </div>
    </li>
  );
}
