/**
 * The page's inbox over the page's one client (lib/client/signals.ts): one
 * {@linkcode Inbox} per page and user, fed by the `user:{id}` channel, shared with the
 * other tabs of the browser through a `BroadcastChannel`, and re-read from the server
 * when the channel cannot recover what a reconnect missed. Islands use these hooks and
 * never touch sockets.
 *
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { pageClient } from "../../client/signals.ts";
import { createInboxApi } from "./api.ts";
import { createInbox, type Inbox, type TabLink } from "./inbox.ts";

/** The channel of one user's inbox (the same as `userChannel` of lib/app/channels.ts). */
export function inboxChannel(userId: string): string {
  return `user:${userId}`;
}

/** The `BroadcastChannel` name shared by one user's tabs. */
export function tabChannelName(userId: string): string {
  return `realtime:inbox:${userId}`;
}

/** A {@linkcode TabLink} over `BroadcastChannel`, or null where there is none. */
export function broadcastLink(name: string): TabLink | null {
  if (typeof BroadcastChannel === "undefined") return null;
  const channel = new BroadcastChannel(name);
  const listeners = new Set<(m: unknown) => void>();
  channel.onmessage = (e: MessageEvent) => {
    for (const fn of listeners) fn(e.data);
  };
  return {
    post(message) {
      try {
        channel.postMessage(message);
      } catch {
        // A closed channel (page unloading): the other tabs have the server's messages.
      }
    },
    listen(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    close: () => channel.close(),
  };
}

let shared: { userId: string; inbox: Inbox; stop(): void } | null = null;

/**
 * The page's inbox for `userId`, created and subscribed on first use (browser only).
 * The first page is read when the subscription is confirmed, and again whenever a
 * reconnect could not replay what was missed (`onReset`).
 */
export function pageInbox(userId: string): Inbox {
  if (shared?.userId === userId) return shared.inbox;
  shared?.stop();
  const inbox = createInbox({
    api: createInboxApi(),
    tabs: broadcastLink(tabChannelName(userId)),
  });
  const { client } = pageClient();
  const sub = client.subscribe<unknown>(inboxChannel(userId), {
    onMessage(data, meta) {
      const pos = meta.epoch !== undefined && meta.offset !== undefined
        ? { epoch: meta.epoch, offset: meta.offset }
        : undefined;
      inbox.receive(data, pos);
    },
    onSubscribed({ recovered }) {
      // First subscribe (nothing to recover): read the inbox. `recovered: true`: the
      // missed messages follow, counts included. `false`: onReset reads it again.
      if (recovered === undefined) void inbox.reload();
    },
    onReset() {
      void inbox.reload();
    },
    onError() {
      // Refused (signed out meanwhile): the inbox stays as it was read over HTTP.
    },
  });
  shared = {
    userId,
    inbox,
    stop() {
      sub.unsubscribe();
      inbox.dispose();
    },
  };
  return inbox;
}

/** The page's inbox once mounted (null during server rendering and hydration). */
export function useInbox(userId: string): Inbox | null {
  const inbox = useSignal<Inbox | null>(null);
  useEffect(() => {
    inbox.value = pageInbox(userId);
  }, [userId]);
  return inbox.value;
}

/** The browser's locale for dates and numbers (the server renders `en-US`). */
export function browserLocale(): string {
  const wanted = typeof navigator !== "undefined"
    ? navigator.languages?.[0] ?? navigator.language
    : undefined;
  try {
    return Intl.RelativeTimeFormat.supportedLocalesOf([wanted ?? "en-US"])[0] ?? "en-US";
  } catch {
    return "en-US";
  }
}
