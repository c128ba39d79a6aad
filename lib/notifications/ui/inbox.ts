/**
 * The browser inbox of one signed-in user: the items of the open view, the server's
 * counts, paging by cursor, and the user's acts (seen, read, read all, archive) — as
 * signals for the NotificationCenter island, with no knowledge of sockets or the DOM.
 *
 * Where state comes from, and why it stays exact:
 * - Items merge by id with {@linkcode mergeItem}: seen / read / archived only ever get
 *   set, so a replayed or late copy never undoes a newer state.
 * - Counts are the server's. Each `user:{id}` message carries them with the inbox's
 *   revision `rev` (it grows with every committed change); counts of a revision older
 *   than one already applied are ignored, whichever tab's socket brought them (tabs
 *   forward what they receive through {@linkcode TabLink}), and whatever order two
 *   isolates published in. Without `rev`, the message's channel position orders them. A
 *   page read over HTTP sets the counts when its `rev` is not older, or (without `rev`)
 *   when no message arrived while it was read. A user's own act changes the counts at
 *   once (optimistically) until the server's next message says what they are.
 *
 * @module
 */
import { batch, computed, type ReadonlySignal, signal } from "@preact/signals";
import type { InboxEvent, InboxPage, Notification, NotificationCounts } from "../types.ts";
import type { InboxApi } from "./api.ts";
import {
  belongsTo,
  type ChannelPosition,
  compareNewestFirst,
  type InboxFilter,
  isNewer,
  mergeItem,
  sameItem,
} from "./merge.ts";
import { parseInboxEvent } from "./wire.ts";

/** Items per page. */
export const PAGE_SIZE = 20;
/** Items kept in memory at most (older ones are dropped from the view's end). */
export const MAX_KEPT = 500;

/** What tabs of one browser tell each other (one `BroadcastChannel` per user). */
export type TabMessage =
  /** A `user:{id}` message this tab received, with its position. */
  | { t: "event"; event: InboxEvent; pos?: ChannelPosition }
  /** This tab's user changed items (optimistic); `delta` is what it did to the counts. */
  | {
    t: "change";
    changes: { id: string; seenAt?: number; readAt?: number; archivedAt?: number }[];
    delta: { unseen: number; unread: number };
  }
  /** This tab showed `id` to the user (toast or system notification): others need not. */
  | { t: "shown"; id: string }
  /** The user dismissed the toast of `id`. */
  | { t: "dismiss"; id: string };

/** A channel to the other tabs of this browser (a `BroadcastChannel`, or none). */
export interface TabLink {
  post(message: TabMessage): void;
  /** Calls `listener` for every message from another tab; returns the unsubscribe. */
  listen(listener: (message: unknown) => void): () => void;
  close(): void;
}

/** How an item reached this tab. */
export type ArrivalSource = "live" | "tab";

/** What the inbox needs. */
export interface InboxDeps {
  api: InboxApi;
  tabs?: TabLink | null;
  now?: () => number;
  /** How long a batch of "seen" ids waits before it is sent, ms. Default 150. */
  seenDelayMs?: number;
  setTimeout?: (fn: () => void, ms: number) => unknown;
}

/** The inbox state and acts. */
export interface Inbox {
  /** The open view's items, newest first. */
  readonly items: ReadonlySignal<Notification[]>;
  /** The server's counts (null until known). */
  readonly counts: ReadonlySignal<NotificationCounts | null>;
  readonly filter: ReadonlySignal<InboxFilter>;
  /** `idle` before the first load, `loading` (first page), `ready`, `error`. */
  readonly status: ReadonlySignal<"idle" | "loading" | "ready" | "error">;
  /** Whether an older page is being read. */
  readonly loadingMore: ReadonlySignal<boolean>;
  /** Whether older items exist beyond the loaded ones. */
  readonly hasMore: ReadonlySignal<boolean>;
  /** The last failure, in words for people (null when none). */
  readonly error: ReadonlySignal<string | null>;
  /** Messages from the wire dropped as invalid. */
  readonly rejected: ReadonlySignal<number>;
  /** Reads the first page of the view again (after a reconnect that could not recover). */
  reload(): Promise<void>;
  setFilter(filter: InboxFilter): Promise<void>;
  /** Reads the next older page, if any (one at a time). */
  loadMore(): Promise<void>;
  /** A message of `user:{id}` (unvalidated data and its position). */
  receive(data: unknown, pos?: ChannelPosition): void;
  /** Marks these items seen (batched; unknown or already seen ids are skipped). */
  markSeen(ids: readonly string[]): void;
  markRead(ids: readonly string[], options?: { keepalive?: boolean }): Promise<void>;
  /** Marks everything up to the newest loaded item read; what arrives meanwhile stays unread. */
  markAllRead(): Promise<void>;
  archive(ids: readonly string[]): Promise<void>;
  /** An item this tab had not seen before arrived; returns the unsubscribe. */
  onArrival(listener: (item: Notification, source: ArrivalSource) => void): () => void;
  /** Another tab showed or dismissed an item; returns the unsubscribe. */
  onTabNotice(listener: (notice: { t: "shown" | "dismiss"; id: string }) => void): () => void;
  /** Tells the other tabs (e.g. that a toast was shown or dismissed). */
  tell(message: { t: "shown" | "dismiss"; id: string }): void;
  dispose(): void;
}

/** Words for a failed act, for the panel's notice. */
function failureText(what: string, err: unknown): string {
  const detail = err instanceof Error ? err.message : String(err);
  return `${what} failed: ${detail}`;
}

/** Creates the inbox; call {@linkcode Inbox.reload} (or let the channel do it) to load. */
export function createInbox(deps: InboxDeps): Inbox {
  const api = deps.api;
  const now = deps.now ?? Date.now;
  const later = deps.setTimeout ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
  const seenDelay = deps.seenDelayMs ?? 150;

  /** Every item known, by id. */
  const known = signal<ReadonlyMap<string, Notification>>(new Map());
  /** The ids of the open view, newest first. */
  const viewIds = signal<string[]>([]);
  const filter = signal<InboxFilter>("all");
  const next = signal<string | null>(null);
  const counts = signal<NotificationCounts | null>(null);
  const status = signal<"idle" | "loading" | "ready" | "error">("idle");
  const loadingMore = signal(false);
  const error = signal<string | null>(null);
  const rejected = signal(0);

  const items = computed(() => {
    const map = known.value;
    const f = filter.value;
    const out: Notification[] = [];
    for (const id of viewIds.value) {
      const item = map.get(id);
      // Read items stay in the unread view until it is reloaded (the user just read them
      // there); archived ones leave the other views at once.
      if (item && (f === "unread" ? item.archivedAt === undefined : belongsTo(item, f))) {
        out.push(item);
      }
    }
    return out;
  });
  const hasMore = computed(() => next.value !== null);

  let lastPos: ChannelPosition | null = null;
  /** The highest inbox revision whose counts were applied (-1: none). */
  let lastRev = -1;
  /** Counts-bearing messages applied so far (a page read meanwhile must not win). */
  let eventSeq = 0;
  /** Bumped on every reload: an older load's answer is dropped. */
  let loadSeq = 0;
  let moreRunning: Promise<void> | null = null;
  let disposed = false;
  const arrivals = new Set<(item: Notification, source: ArrivalSource) => void>();
  const notices = new Set<(n: { t: "shown" | "dismiss"; id: string }) => void>();
  const pendingSeen = new Set<string>();
  let seenTimer = false;

  const upsert = (incoming: readonly Notification[]): Notification[] => {
    const fresh: Notification[] = [];
    if (incoming.length === 0) return fresh;
    const map = new Map(known.value);
    let changed = false;
    for (const item of incoming) {
      const old = map.get(item.id);
      if (!old) {
        map.set(item.id, item);
        fresh.push(item);
        changed = true;
        continue;
      }
      const merged = mergeItem(old, item);
      if (!sameItem(old, merged)) {
        map.set(item.id, merged);
        changed = true;
      }
    }
    if (map.size > MAX_KEPT * 2) {
      // Forget the oldest items no view shows.
      const shown = new Set(viewIds.value);
      const ids = [...map.keys()].sort(compareNewestFirst);
      for (const id of ids.slice(MAX_KEPT)) if (!shown.has(id)) map.delete(id);
    }
    if (changed) known.value = map;
    return fresh;
  };

  /** Puts items that belong to the open view into it, in order, within the loaded window. */
  const place = (list: readonly Notification[]) => {
    const f = filter.value;
    const ids = viewIds.value;
    const present = new Set(ids);
    const oldest = ids.at(-1);
    const add = list.filter((item) =>
      !present.has(item.id) && belongsTo(known.value.get(item.id) ?? item, f) &&
      // Older than everything loaded while more pages exist: it comes with its page.
      (next.value === null || oldest === undefined || item.id > oldest)
    );
    if (add.length === 0) return;
    const merged = [...ids, ...add.map((i) => i.id)].sort(compareNewestFirst);
    viewIds.value = merged.slice(0, MAX_KEPT);
  };

  const setServerCounts = (c: NotificationCounts, rev?: number, pos?: ChannelPosition) => {
    if (rev !== undefined) {
      if (rev <= lastRev) return;
      lastRev = rev;
      if (pos && isNewer(pos, lastPos)) lastPos = pos;
    } else if (pos) {
      if (!isNewer(pos, lastPos)) return;
      lastPos = pos;
    }
    eventSeq++;
    counts.value = c;
  };

  const applyDelta = (delta: { unseen: number; unread: number }) => {
    const c = counts.value;
    if (!c || (delta.unseen === 0 && delta.unread === 0)) return;
    counts.value = {
      unseen: Math.max(0, c.unseen + delta.unseen),
      unread: Math.max(0, c.unread + delta.unread),
    };
  };

  const applyEvent = (event: InboxEvent, pos: ChannelPosition | undefined) =>
    batch(() => {
      let fresh: Notification[] = [];
      if (event.type === "notification") {
        fresh = upsert([event.item]);
        place([event.item]);
      } else if (event.type === "updated") {
        fresh = upsert(event.items);
        place(event.items);
      }
      setServerCounts(event.counts, event.rev, pos);
      return fresh;
    });

  const tabs = deps.tabs ?? null;
  const stopListening = tabs?.listen((raw) => {
    if (disposed || !raw || typeof raw !== "object") return;
    const m = raw as Record<string, unknown>;
    if (m.t === "event") {
      const event = parseInboxEvent(m.event);
      if (!event) return void rejected.value++;
      const pos = parsePos(m.pos);
      const fresh = applyEvent(event, pos ?? undefined);
      if (event.type === "notification") { for (const item of fresh) emit(item, "tab"); }
    } else if (m.t === "change") {
      applyRemoteChange(m.changes, m.delta);
    } else if ((m.t === "shown" || m.t === "dismiss") && typeof m.id === "string") {
      for (const fn of notices) fn({ t: m.t, id: m.id.slice(0, 64) });
    }
  });

  function parsePos(v: unknown): ChannelPosition | null {
    if (!v || typeof v !== "object") return null;
    const p = v as Record<string, unknown>;
    return typeof p.epoch === "string" && p.epoch.length <= 64 && typeof p.offset === "number" &&
        Number.isInteger(p.offset) && p.offset >= 0
      ? { epoch: p.epoch, offset: p.offset }
      : null;
  }

  function applyRemoteChange(rawChanges: unknown, rawDelta: unknown) {
    if (!Array.isArray(rawChanges) || rawChanges.length > 1_000) return;
    const map = known.value;
    const updates: Notification[] = [];
    for (const c of rawChanges) {
      if (!c || typeof c !== "object") continue;
      const { id, seenAt, readAt, archivedAt } = c as Record<string, unknown>;
      const old = typeof id === "string" ? map.get(id) : undefined;
      if (!old) continue;
      const next: Notification = { ...old };
      if (typeof seenAt === "number") next.seenAt = seenAt;
      if (typeof readAt === "number") next.readAt = readAt;
      if (typeof archivedAt === "number") next.archivedAt = archivedAt;
      updates.push(next);
    }
    const delta = rawDelta && typeof rawDelta === "object"
      ? rawDelta as Record<string, unknown>
      : {};
    const num = (v: unknown) => typeof v === "number" && Number.isFinite(v) ? Math.round(v) : 0;
    batch(() => {
      upsert(updates);
      applyDelta({ unseen: num(delta.unseen), unread: num(delta.unread) });
    });
  }

  function emit(item: Notification, source: ArrivalSource) {
    for (const fn of arrivals) fn(item, source);
  }

  /** Applies the user's own change locally and tells the other tabs. */
  function change(
    ids: readonly string[],
    patch: (item: Notification) => Partial<Notification> | null,
  ): string[] {
    const map = known.value;
    const changes: { id: string; seenAt?: number; readAt?: number; archivedAt?: number }[] = [];
    const updates: Notification[] = [];
    const delta = { unseen: 0, unread: 0 };
    for (const id of new Set(ids)) {
      const old = map.get(id);
      if (!old) continue;
      const p = patch(old);
      if (!p) continue;
      const next = { ...old, ...p };
      updates.push(next);
      changes.push({
        id,
        ...(p.seenAt !== undefined ? { seenAt: p.seenAt } : {}),
        ...(p.readAt !== undefined ? { readAt: p.readAt } : {}),
        ...(p.archivedAt !== undefined ? { archivedAt: p.archivedAt } : {}),
      });
      // What the server counts: items not archived, not seen / not read.
      const was = old.archivedAt === undefined;
      const is = next.archivedAt === undefined;
      delta.unseen += (is && next.seenAt === undefined ? 1 : 0) -
        (was && old.seenAt === undefined ? 1 : 0);
      delta.unread += (is && next.readAt === undefined ? 1 : 0) -
        (was && old.readAt === undefined ? 1 : 0);
    }
    if (updates.length > 0) {
      batch(() => {
        upsert(updates);
        applyDelta(delta);
      });
      tabs?.post({ t: "change", changes, delta });
    }
    return changes.map((c) => c.id);
  }

  async function load(kind: "first" | "more"): Promise<void> {
    const seq = kind === "first" ? ++loadSeq : loadSeq;
    const f = filter.value;
    const cursor = kind === "first" ? null : next.value;
    const eventsBefore = eventSeq;
    if (kind === "first") status.value = "loading";
    else loadingMore.value = true;
    let page: InboxPage;
    try {
      page = await api.list({ cursor, limit: PAGE_SIZE, filter: f });
    } catch (err) {
      if (seq !== loadSeq || disposed) return;
      batch(() => {
        if (kind === "first") status.value = "error";
        else loadingMore.value = false;
        error.value = failureText("Loading notifications", err);
      });
      return;
    }
    if (seq !== loadSeq || disposed) return;
    batch(() => {
      upsert(page.items);
      const ids = page.items.map((i) => i.id);
      if (kind === "first") {
        // Items that arrived live while the page was read are newer than it: keep them.
        const newest = ids[0];
        const live = viewIds.value.filter((id) => newest !== undefined && id > newest);
        viewIds.value = [...new Set([...live, ...ids])].slice(0, MAX_KEPT);
      } else {
        viewIds.value = [...new Set([...viewIds.value, ...ids])].slice(0, MAX_KEPT);
      }
      next.value = viewIds.value.length >= MAX_KEPT ? null : page.next;
      // The page's counts when they are not older than what messages said: by revision,
      // or (no revision) when no message arrived while it was read.
      const fresh = page.rev !== undefined ? page.rev >= lastRev : eventSeq === eventsBefore;
      if (fresh) {
        counts.value = page.counts;
        if (page.rev !== undefined) lastRev = page.rev;
      }
      if (kind === "first") status.value = "ready";
      loadingMore.value = false;
      error.value = null;
    });
  }

  const flushSeen = async () => {
    seenTimer = false;
    const ids = [...pendingSeen];
    pendingSeen.clear();
    if (ids.length === 0 || disposed) return;
    try {
      await api.seen(ids);
    } catch (err) {
      error.value = failureText("Marking as seen", err);
    }
  };

  return {
    items,
    counts,
    filter,
    status,
    loadingMore,
    hasMore,
    error,
    rejected,
    reload: () => load("first"),
    async setFilter(f) {
      if (f === filter.value && status.value !== "idle") return;
      batch(() => {
        filter.value = f;
        viewIds.value = [];
        next.value = null;
      });
      await load("first");
    },
    loadMore() {
      if (moreRunning) return moreRunning;
      if (next.value === null || status.value !== "ready") return Promise.resolve();
      moreRunning = load("more").finally(() => moreRunning = null);
      return moreRunning;
    },
    receive(data, pos) {
      if (disposed) return;
      const event = parseInboxEvent(data);
      if (!event) {
        rejected.value++;
        return;
      }
      const fresh = applyEvent(event, pos);
      tabs?.post({ t: "event", event, ...(pos ? { pos } : {}) });
      if (event.type === "notification") { for (const item of fresh) emit(item, "live"); }
    },
    markSeen(ids) {
      const at = now();
      const changed = change(ids, (i) => i.seenAt === undefined ? { seenAt: at } : null);
      if (changed.length === 0) return;
      for (const id of changed) pendingSeen.add(id);
      if (!seenTimer) {
        seenTimer = true;
        later(() => void flushSeen(), seenDelay);
      }
    },
    async markRead(ids, options = {}) {
      const at = now();
      // Read implies seen (as the server does).
      const changed = change(
        ids,
        (i) => i.readAt === undefined ? { readAt: at, seenAt: i.seenAt ?? at } : null,
      );
      if (changed.length === 0) return;
      try {
        await api.read(changed, options);
      } catch (err) {
        error.value = failureText("Marking as read", err);
        void load("first");
      }
    },
    async markAllRead() {
      const at = now();
      const loaded = [...known.value.values()];
      const newest = loaded.map((i) => i.id).sort(compareNewestFirst)[0] ?? null;
      change(
        loaded.map((i) => i.id),
        (i) => i.readAt === undefined ? { readAt: at, seenAt: i.seenAt ?? at } : null,
      );
      try {
        await api.readAll(newest);
      } catch (err) {
        error.value = failureText("Marking all as read", err);
        void load("first");
      }
    },
    async archive(ids) {
      const at = now();
      const changed = change(ids, (i) => i.archivedAt === undefined ? { archivedAt: at } : null);
      if (changed.length === 0) return;
      try {
        await api.archive(changed);
      } catch (err) {
        error.value = failureText("Archiving", err);
        void load("first");
      }
    },
    onArrival(listener) {
      arrivals.add(listener);
      return () => arrivals.delete(listener);
    },
    onTabNotice(listener) {
      notices.add(listener);
      return () => notices.delete(listener);
    },
    tell(message) {
      tabs?.post(message);
    },
    dispose() {
      disposed = true;
      stopListening?.();
      tabs?.close();
    },
  };
}
