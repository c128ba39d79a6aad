/**
 * Optional system notifications (the Notification API) for high and critical items while
 * the tab is hidden. Off by default; turned on by the user's click, which is the only
 * moment permission is ever asked. The choice is kept per user in `localStorage`.
 *
 * @module
 */
import type { Notification as InboxItem } from "../types.ts";

/** Where the desktop setting stands. */
export type DesktopState =
  /** No Notification API here (or not a secure context). */
  | "unsupported"
  /** The browser refuses (the user blocked this site). */
  | "denied"
  /** Not turned on in this browser. */
  | "off"
  | "on";

/** The parts of the Notification API used (the global `Notification` fits). */
export interface NotificationApi {
  readonly permission: NotificationPermission;
  requestPermission(): Promise<NotificationPermission>;
  new (title: string, options?: NotificationOptions): {
    onclick: ((ev: Event) => unknown) | null;
    close(): void;
  };
}

/** What the notifier needs. */
export interface DesktopDeps {
  /** The Notification API, or undefined where the browser has none. */
  api?: NotificationApi;
  storage?: Pick<Storage, "getItem" | "setItem" | "removeItem">;
  /** Storage key of this user's choice. */
  key: string;
  /** Whether the page is hidden now. */
  hidden(): boolean;
}

/** System notifications of one user in this browser. */
export interface DesktopNotifier {
  state(): DesktopState;
  /** Asks permission if needed (call only from a user's click) and turns them on. */
  enable(): Promise<DesktopState>;
  disable(): void;
  /** Shows `item` if turned on, the page is hidden and it is high or critical. */
  show(item: InboxItem, onClick: () => void): boolean;
}

/** Creates the notifier. */
export function createDesktopNotifier(deps: DesktopDeps): DesktopNotifier {
  const api = deps.api;
  const read = () => {
    try {
      return deps.storage?.getItem(deps.key) === "on";
    } catch {
      return false;
    }
  };
  const write = (on: boolean) => {
    try {
      if (on) deps.storage?.setItem(deps.key, "on");
      else deps.storage?.removeItem(deps.key);
    } catch {
      // Storage disabled: the choice lasts for this page.
    }
  };
  let wanted = read();
  const state = (): DesktopState => {
    if (!api) return "unsupported";
    if (api.permission === "denied") return "denied";
    return wanted && api.permission === "granted" ? "on" : "off";
  };
  return {
    state,
    async enable() {
      if (!api) return "unsupported";
      let permission = api.permission;
      if (permission === "default") {
        try {
          permission = await api.requestPermission();
        } catch {
          permission = api.permission;
        }
      }
      wanted = permission === "granted";
      write(wanted);
      return state();
    },
    disable() {
      wanted = false;
      write(false);
    },
    show(item, onClick) {
      if (state() !== "on" || !deps.hidden()) return false;
      if (item.priority !== "high" && item.priority !== "critical") return false;
      try {
        const n = new api!(item.title, {
          body: item.body,
          // One system notification per item, however many tabs try.
          tag: `realtime:${item.id}`,
          requireInteraction: item.priority === "critical",
        });
        n.onclick = () => {
          onClick();
          n.close();
        };
        return true;
      } catch {
        // Some browsers only allow it from a service worker: the toast and badge remain.
        return false;
      }
    },
  };
}
