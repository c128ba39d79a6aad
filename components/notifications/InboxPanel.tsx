import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import type { Notification } from "../../lib/notifications/types.ts";
import type { DesktopState } from "../../lib/notifications/ui/desktop.ts";
import { moveInList } from "../../lib/notifications/ui/focus.ts";
import type { Inbox } from "../../lib/notifications/ui/inbox.ts";
import type { InboxFilter } from "../../lib/notifications/ui/merge.ts";
import { BellIcon, CloseIcon } from "./icons.tsx";
import { NotificationItem } from "./NotificationItem.tsx";

/** Props of {@linkcode InboxPanel}. */
export interface InboxPanelProps {
  inbox: Inbox;
  locale: string;
  desktop: DesktopState;
  onDesktop(on: boolean): void;
  onClose(): void;
}

const FILTERS: { id: InboxFilter; label: string }[] = [
  { id: "all", label: "All" },
  { id: "unread", label: "Unread" },
  { id: "archived", label: "Archived" },
];

const EMPTY: Record<InboxFilter, { title: string; text: string }> = {
  all: {
    title: "You're all caught up",
    text: "Price alerts, wallet activity and announcements will show up here.",
  },
  unread: { title: "Nothing unread", text: "Everything here has been read." },
  archived: { title: "Nothing archived", text: "Archived notifications are kept here." },
};

/** How often relative times are refreshed while the panel is open, ms. */
const TICK_MS = 20_000;

function DesktopSetting(
  { state, onChange }: { state: DesktopState; onChange(on: boolean): void },
) {
  if (state === "unsupported") return null;
  if (state === "denied") {
    return <span class="muted">Desktop alerts are blocked in this browser's site settings.</span>;
  }
  return (
    <button
      type="button"
      class="link-button"
      data-testid="nc-desktop"
      aria-pressed={state === "on"}
      onClick={() => onChange(state !== "on")}
    >
      {state === "on" ? "Desktop alerts: on" : "Turn on desktop alerts"}
    </button>
  );
}

/**
 * The inside of the notification dialog: heading, filters, the list with infinite
 * scroll, mark all read, an empty state, and the footer. Rows that are on screen while
 * the panel is open are marked seen.
 */
export function InboxPanel({ inbox, locale, desktop, onDesktop, onClose }: InboxPanelProps) {
  const now = useSignal(Date.now());
  const scroller = useRef<HTMLDivElement>(null);
  const list = useRef<HTMLUListElement>(null);
  const sentinel = useRef<HTMLLIElement>(null);
  const items = inbox.items.value;
  const status = inbox.status.value;
  const filter = inbox.filter.value;
  const unread = inbox.counts.value?.unread ?? 0;

  useEffect(() => {
    const timer = setInterval(() => now.value = Date.now(), TICK_MS);
    return () => clearInterval(timer);
  }, []);

  // What is on screen while the panel is open is seen.
  useEffect(() => {
    const root = scroller.current;
    if (!root || typeof IntersectionObserver === "undefined") return;
    const observer = new IntersectionObserver((entries) => {
      if (document.visibilityState === "hidden") return;
      const ids = entries
        .filter((e) => e.isIntersecting)
        .map((e) => (e.target as HTMLElement).dataset.id)
        .filter((id): id is string => typeof id === "string");
      if (ids.length > 0) inbox.markSeen(ids);
    }, { root, threshold: 0.5 });
    for (const el of root.querySelectorAll("li[data-unseen=true]")) observer.observe(el);
    return () => observer.disconnect();
  }, [items]);

  // Infinite scroll: the row after the last loads the next page when it comes near.
  useEffect(() => {
    const root = scroller.current;
    const end = sentinel.current;
    if (!root || !end || typeof IntersectionObserver === "undefined") return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void inbox.loadMore();
    }, { root, rootMargin: "0px 0px 160px 0px" });
    observer.observe(end);
    return () => observer.disconnect();
  }, [items.length, inbox.hasMore.value]);

  const read = (item: Notification, viaLink: boolean) => {
    void inbox.markRead([item.id], { keepalive: viaLink });
    if (viaLink) onClose();
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (list.current && moveInList(list.current, e)) e.preventDefault();
  };
  const empty = EMPTY[filter];

  return (
    <div class="nc-inner">
      <div class="nc-head">
        <h2 id="nc-title">Notifications</h2>
        <button
          type="button"
          class="link-button"
          data-testid="nc-read-all"
          disabled={unread === 0}
          onClick={() => void inbox.markAllRead()}
        >
          Mark all read
        </button>
        <button
          type="button"
          class="nc-act nc-close"
          aria-label="Close notifications"
          title="Close"
          onClick={onClose}
        >
          <CloseIcon />
        </button>
      </div>
      <div class="seg nc-filters" role="group" aria-label="Show">
        {FILTERS.map((f) => (
          <button
            key={f.id}
            type="button"
            aria-pressed={filter === f.id}
            data-filter={f.id}
            onClick={() => void inbox.setFilter(f.id)}
          >
            {f.label}
            {f.id === "unread" && unread > 0 && <span class="nc-filter-count">{unread}</span>}
          </button>
        ))}
      </div>
      {inbox.error.value && (
        <p class="nc-error" role="status" data-testid="nc-error">
          {inbox.error.value}.{" "}
          <button type="button" class="link-button" onClick={() => void inbox.reload()}>
            Try again
          </button>
        </p>
      )}
      <div class="nc-scroll" ref={scroller}>
        {status === "loading" && items.length === 0 && (
          <p class="nc-loading muted" role="status">Loading notifications…</p>
        )}
        {status !== "loading" && status !== "idle" && items.length === 0 && (
          <div class="nc-empty" data-testid="nc-empty">
            <span class="nc-empty-icon">
              <BellIcon size={28} />
            </span>
            <p class="nc-empty-title">{empty.title}</p>
            <p class="muted">{empty.text}</p>
            {filter === "all" && (
              <p class="muted">
                Set a price alert on any <a href="/">pair's page</a>.
              </p>
            )}
          </div>
        )}
        <ul
          class="nc-list"
          ref={list}
          aria-label="Notifications"
          aria-busy={status === "loading" || inbox.loadingMore.value}
          data-testid="nc-list"
          onKeyDown={onKeyDown}
        >
          {items.map((item) => (
            <NotificationItem
              key={item.id}
              item={item}
              now={now.value}
              locale={locale}
              onRead={read}
              onArchive={(i) => void inbox.archive([i.id])}
            />
          ))}
          {inbox.hasMore.value && (
            <li class="nc-more" ref={sentinel}>
              <button
                type="button"
                class="link-button"
                data-testid="nc-more"
                disabled={inbox.loadingMore.value}
                onClick={() => void inbox.loadMore()}
              >
                {inbox.loadingMore.value ? "Loading…" : "Load older"}
              </button>
            </li>
          )}
        </ul>
      </div>
      <div class="nc-foot">
        <a href="/alerts">Alert rules</a>
        <DesktopSetting state={desktop} onChange={onDesktop} />
      </div>
    </div>
  );
}
