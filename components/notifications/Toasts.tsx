import type { Notification } from "../../lib/notifications/types.ts";
import { CloseIcon } from "./icons.tsx";
import { CATEGORY_LABEL, PRIORITY_LABEL } from "./NotificationItem.tsx";

/** Props of {@linkcode Toasts}. */
export interface ToastsProps {
  toasts: readonly Notification[];
  /** The user followed the toast's link (marks it read). */
  onOpen(item: Notification): void;
  onDismiss(item: Notification): void;
}

/**
 * New high and critical notifications, newest first, in a live region that exists from
 * the start (screen readers announce what is added to it): high politely, critical as an
 * alert.
 */
export function Toasts({ toasts, onOpen, onDismiss }: ToastsProps) {
  return (
    <div class="nc-toasts" data-testid="nc-toasts" aria-live="polite" aria-relevant="additions">
      {toasts.map((t) => (
        <div
          key={t.id}
          class="nc-toast"
          data-priority={t.priority}
          data-id={t.id}
          data-testid="nc-toast"
          role={t.priority === "critical" ? "alert" : "status"}
        >
          <div class="nc-toast-text">
            <p class="nc-meta">
              <span class={`nc-tag nc-tag-${t.priority}`}>{PRIORITY_LABEL[t.priority]}</span>
              <span>{CATEGORY_LABEL[t.category]}</span>
            </p>
            <p class="nc-toast-title">{t.title}</p>
            {t.body && <p class="nc-body">{t.body}</p>}
            {t.link && (
              <a
                class="nc-toast-link"
                href={t.link}
                onClick={() => onOpen(t)}
              >
                View
              </a>
            )}
          </div>
          <button
            type="button"
            class="nc-act"
            title="Dismiss"
            aria-label={`Dismiss: ${t.title}`}
            onClick={() =>
              onDismiss(t)}
          >
            <CloseIcon />
          </button>
        </div>
      ))}
    </div>
  );
}
