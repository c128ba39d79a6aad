import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { BellIcon } from "../components/notifications/icons.tsx";
import { InboxPanel } from "../components/notifications/InboxPanel.tsx";
import { Toasts } from "../components/notifications/Toasts.tsx";
import type { Notification } from "../lib/notifications/types.ts";
import {
  createDesktopNotifier,
  type DesktopNotifier,
  type DesktopState,
  type NotificationApi,
} from "../lib/notifications/ui/desktop.ts";
import { trapTab } from "../lib/notifications/ui/focus.ts";
import { browserLocale, useInbox } from "../lib/notifications/ui/hooks.ts";

/** Props: the signed-in user whose inbox this is. */
export interface NotificationCenterProps {
  userId: string;
}

/** A high toast leaves after this long; a critical one stays until dismissed. */
const TOAST_MS = 10_000;
const MAX_TOASTS = 3;
/** Items older than this that arrive (a replay after a long reconnect) get no toast. */
const TOAST_MAX_AGE_MS = 5 * 60_000;

function storage(): Storage | undefined {
  try {
    return globalThis.localStorage ?? undefined;
  } catch {
    return undefined;
  }
}

function badgeText(n: number): string {
  return n > 99 ? "99+" : String(n);
}

/**
 * The notification center in the header: a bell with the unseen count, a dialog with the
 * inbox, toasts for new high and critical items, and (when the user turns them on)
 * system notifications for those while the tab is hidden. Every tab of the browser shows
 * the same counts: each follows `user:{id}` and tells the others what it did.
 */
export default function NotificationCenter({ userId }: NotificationCenterProps) {
  const inbox = useInbox(userId);
  const open = useSignal(false);
  const toasts = useSignal<Notification[]>([]);
  const locale = useSignal("en-US");
  const desktopState = useSignal<DesktopState>("unsupported");
  const desktop = useRef<DesktopNotifier | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);
  const bell = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    locale.value = browserLocale();
    desktop.current = createDesktopNotifier({
      api: (globalThis as { Notification?: NotificationApi }).Notification,
      storage: storage(),
      key: `realtime:desktop-alerts:${userId}`,
      hidden: () => document.visibilityState === "hidden",
    });
    desktopState.value = desktop.current.state();
  }, [userId]);

  const dismiss = (id: string, tell: boolean) => {
    if (!toasts.value.some((t) => t.id === id)) return;
    toasts.value = toasts.value.filter((t) => t.id !== id);
    if (tell) inbox?.tell({ t: "dismiss", id });
  };

  // New high and critical items: a toast, or a system notification while hidden.
  useEffect(() => {
    if (!inbox) return;
    const shownElsewhere = new Set<string>();
    const timers = new Set<ReturnType<typeof setTimeout>>();
    const after = (ms: number, fn: () => void) => {
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, ms);
      timers.add(t);
    };
    const offNotice = inbox.onTabNotice((n) => {
      if (n.t === "shown") shownElsewhere.add(n.id);
      else dismiss(n.id, false);
    });
    const offArrival = inbox.onArrival((item) => {
      if (item.priority !== "high" && item.priority !== "critical") return;
      if (item.readAt !== undefined || Date.now() - item.createdAt > TOAST_MAX_AGE_MS) return;
      if (document.visibilityState === "hidden") {
        // Another tab the user is looking at shows it; wait a moment to hear about it.
        after(250 + Math.random() * 250, () => {
          if (shownElsewhere.has(item.id)) return;
          const shown = desktop.current?.show(item, () => {
            globalThis.focus();
            if (item.link) {
              void inbox.markRead([item.id], { keepalive: true });
              globalThis.location.assign(item.link);
            }
          });
          if (shown) inbox.tell({ t: "shown", id: item.id });
        });
      } else {
        inbox.tell({ t: "shown", id: item.id });
      }
      if (open.value) return;
      toasts.value = [item, ...toasts.value.filter((t) => t.id !== item.id)].slice(0, MAX_TOASTS);
      if (item.priority !== "critical") after(TOAST_MS, () => dismiss(item.id, false));
    });
    return () => {
      offNotice();
      offArrival();
      for (const t of timers) clearTimeout(t);
    };
  }, [inbox]);

  // The dialog follows `open`.
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open.value && !d.open) {
      d.showModal();
      toasts.value = [];
      if (inbox && inbox.status.peek() === "idle") void inbox.reload();
      const first = d.querySelector<HTMLElement>(".nc-list [data-nav]") ??
        d.querySelector<HTMLElement>(".nc-filters button[aria-pressed=true]");
      first?.focus();
    } else if (!open.value && d.open) {
      d.close();
    }
  }, [open.value]);

  const close = () => {
    open.value = false;
  };
  const onDialogClose = () => {
    open.value = false;
    bell.current?.focus();
  };
  const onDialogClick = (e: MouseEvent) => {
    // A click on the backdrop lands on the dialog element itself.
    if (e.target === dialog.current) close();
  };
  const onDialogKeyDown = (e: KeyboardEvent) => {
    if (dialog.current && trapTab(dialog.current, e)) e.preventDefault();
  };
  const setDesktop = async (on: boolean) => {
    const d = desktop.current;
    if (!d) return;
    if (on) desktopState.value = await d.enable();
    else {
      d.disable();
      desktopState.value = d.state();
    }
  };

  const counts = inbox?.counts.value ?? null;
  const unseen = counts?.unseen ?? 0;
  const label = counts === null
    ? "Notifications"
    : unseen === 0
    ? "Notifications, none new"
    : `Notifications, ${unseen} new`;
  const items = inbox?.items.value;
  const visibleToasts = toasts.value.filter((t) => {
    const now = items?.find((i) => i.id === t.id);
    return !now || now.readAt === undefined;
  });

  return (
    <div class="nc">
      <button
        ref={bell}
        type="button"
        class="nc-bell"
        aria-label={label}
        aria-haspopup="dialog"
        aria-expanded={open.value}
        aria-controls="nc-panel"
        data-testid="nc-bell"
        data-unseen={counts === null ? "" : String(unseen)}
        data-unread={counts === null ? "" : String(counts.unread)}
        onClick={() => open.value = !open.value}
      >
        <BellIcon />
        {unseen > 0 && (
          <span class="nc-badge" aria-hidden="true" data-testid="nc-badge">
            {badgeText(unseen)}
          </span>
        )}
      </button>
      <dialog
        ref={dialog}
        id="nc-panel"
        class="nc-panel"
        aria-labelledby="nc-title"
        data-testid="nc-panel"
        onClose={onDialogClose}
        onClick={onDialogClick}
        onKeyDown={onDialogKeyDown}
      >
        {open.value && inbox && (
          <InboxPanel
            inbox={inbox}
            locale={locale.value}
            desktop={desktopState.value}
            onDesktop={(on) => void setDesktop(on)}
            onClose={close}
          />
        )}
      </dialog>
      <Toasts
        toasts={visibleToasts}
        onOpen={(t) => {
          void inbox?.markRead([t.id], { keepalive: true });
          dismiss(t.id, true);
        }}
        onDismiss={(t) => dismiss(t.id, true)}
      />
    </div>
  );
}
