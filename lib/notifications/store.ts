/**
 * The per-user inbox in KV (docs/NOTIFICATIONS.md). Every change of a user's inbox is one
 * atomic commit that checks and rewrites the user's **head** (`["notif", userId, "head"]`):
 * the counts `unseen` / `unread` / `total`, the revision `rev`, the newest id and the rate
 * window. So counts can never drift from the items, two isolates changing one inbox
 * serialize (the loser re-reads and tries again), and `rev` orders the changes.
 *
 * - Items are `["notif", userId, "item", id]` with time-ordered ids (lib/notifications/ids.ts),
 *   newest 500 and 30 days kept: the commits that add an item remove what falls out, and a
 *   read first removes what expired (both adjust the counts).
 * - Seen ≠ read ≠ archived: three independent times; counts cover items not archived.
 * - Grouping: a `low` item with a `groupKey` joins the item of that key created within the
 *   window (`count` + 1, newest body and data, unseen and unread again); `critical` never
 *   groups. Over the per-user rate (new items per minute) any item joins one "more
 *   notifications" item per category until the minute ends.
 * - Deliveries are idempotent by `(userId, idempotencyKey)`: `["notif", userId, "idem", key]`
 *   is written in the same commit as the item.
 *
 * @module
 */
import {
  notifGroupKey,
  notifHeadKey,
  notifIdemKey,
  notifItemKey,
  notifItemPrefix,
  notifPrefsKey,
  notifUserPrefix,
} from "../kv/keys.ts";
import { nextId, timePrefix } from "./ids.ts";
import {
  allowedBy,
  DEFAULT_GROUP_WINDOW_MS,
  DEFAULT_PAGE_LIMIT,
  DEFAULT_PREFERENCES,
  DEFAULT_RATE_PER_MINUTE,
  type InboxFilter,
  MAX_INBOX_ITEMS,
  MAX_PAGE_LIMIT,
  preferencesSchema,
  RETENTION_MS,
} from "./schema.ts";
import type {
  InboxPage,
  Notification,
  NotificationCounts,
  NotificationInput,
  NotificationPreferences,
} from "./types.ts";

/** What `["notif", userId, "head"]` holds. */
export interface InboxHead {
  /** Grows by one with every committed change. */
  rev: number;
  /** Items not archived and not seen / not read. */
  unseen: number;
  unread: number;
  /** Items stored (archived included), for the bound. */
  total: number;
  /** The newest id given out ("" before the first). */
  lastId: string;
  /** New items in the current rate window. */
  rate: { start: number; count: number };
}

const EMPTY_HEAD: InboxHead = {
  rev: 0,
  unseen: 0,
  unread: 0,
  total: 0,
  lastId: "",
  rate: { start: 0, count: 0 },
};

/** The open group of a key: the item that joins later ones until `until`. */
interface GroupEntry {
  id: string;
  until: number;
}

/** A delivery already committed: the item it created or joined. */
interface IdemMarker {
  id: string;
  kind: "created" | "grouped";
}

/** What one delivery did. */
export type DeliverOutcome =
  /** A new item. */
  | { kind: "created"; item: Notification; counts: NotificationCounts; rev: number }
  /** Joined an existing item (`count` grew). */
  | { kind: "grouped"; item: Notification; counts: NotificationCounts; rev: number }
  /** This key was delivered before; `item` is that delivery's item now (null if removed since). */
  | {
    kind: "duplicate";
    was: "created" | "grouped";
    item: Notification | null;
    counts: NotificationCounts;
    rev: number;
  }
  /** The user's preferences drop it. */
  | { kind: "filtered"; reason: "muted" | "priority" };

/** What a change of items (seen, read, archive) did. */
export interface ChangeResult {
  /** Items whose state changed, as they are now. */
  updated: Notification[];
  /** Ids that named no item (never existed, removed, another user's). */
  unknown: string[];
  counts: NotificationCounts;
  rev: number;
}

/** Options of {@linkcode createInboxStore}. */
export interface InboxStoreOptions {
  kv: Deno.Kv;
  /** Clock; default `Date.now`. */
  now?: () => number;
  /** Grouping window, ms. Default 60 000. */
  groupWindowMs?: number;
  /** New items per user and minute before items collapse. Default 60. */
  ratePerMinute?: number;
  /** Items kept per user. Default 500. */
  maxItems?: number;
  /** Age after which items go, ms. Default 30 days. */
  retentionMs?: number;
}

/** A page request. */
export interface ListQuery {
  /** Items older than this id (exclusive); none: from the newest. */
  cursor?: string;
  /** Default 20, at most 100. */
  limit?: number;
  /** Default `all` (not archived). */
  filter?: InboxFilter;
}

/** The inbox store (see the module comment). */
export interface InboxStore {
  deliver(input: NotificationInput): Promise<DeliverOutcome>;
  /**
   * Delivers many at once: one commit per user (and 40 items), outcomes in the order of
   * `inputs`. A key repeated within `inputs` is a duplicate of its first.
   */
  deliverMany(inputs: NotificationInput[]): Promise<DeliverOutcome[]>;
  /** A page, newest first; removes expired items first (`trimmed` says what that changed). */
  list(userId: string, query?: ListQuery): Promise<InboxPage & { rev: number; trimmed: boolean }>;
  counts(userId: string): Promise<NotificationCounts & { rev: number }>;
  markSeen(userId: string, ids: string[]): Promise<ChangeResult>;
  /** Read implies seen. */
  markRead(userId: string, ids: string[]): Promise<ChangeResult>;
  /**
   * Marks read every item with an id ≤ `before` (newer ones stay unread); without `before`,
   * every item there is when the request starts.
   */
  markAllRead(userId: string, before?: string): Promise<ChangeResult>;
  archive(userId: string, ids: string[]): Promise<ChangeResult>;
  /** One item, or null. */
  get(userId: string, id: string): Promise<Notification | null>;
  preferences(userId: string): Promise<NotificationPreferences>;
  setPreferences(userId: string, prefs: NotificationPreferences): Promise<NotificationPreferences>;
  /** Removes items older than the retention; null when there were none. */
  trimExpired(userId: string): Promise<ChangeResult | null>;
  /** Deletes everything of the user's inbox; returns the number of keys removed. */
  deleteAll(userId: string): Promise<number>;
}

const MAX_COMMIT_TRIES = 40;
/** Items removed per delivery at most (the bound moves by one per delivery). */
const TRIM_PER_DELIVERY = 8;
/** Deliveries per commit at most (each adds a check; KV allows 100). */
const DELIVER_CHUNK = 40;
/** Items changed per commit (size: KV allows 800 KiB per commit). */
const CHANGE_CHUNK = 100;
const IDEM_TTL_MS = 24 * 60 * 60 * 1000;

function countsOf(head: InboxHead): NotificationCounts {
  return { unseen: head.unseen, unread: head.unread };
}

/** How much an item adds to `unseen` and `unread`. */
function weight(item: Notification): { unseen: number; unread: number } {
  if (item.archivedAt !== undefined) return { unseen: 0, unread: 0 };
  return { unseen: item.seenAt === undefined ? 1 : 0, unread: item.readAt === undefined ? 1 : 0 };
}

function apply(head: InboxHead, before: Notification | null, after: Notification | null): void {
  const b = before ? weight(before) : { unseen: 0, unread: 0 };
  const a = after ? weight(after) : { unseen: 0, unread: 0 };
  head.unseen += a.unseen - b.unseen;
  head.unread += a.unread - b.unread;
  head.total += (after ? 1 : 0) - (before ? 1 : 0);
}

function pause(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.random() * Math.min(20, 1 + attempt)));
}

async function getMany<T>(kv: Deno.Kv, keys: Deno.KvKey[]): Promise<Deno.KvEntryMaybe<T>[]> {
  const out: Deno.KvEntryMaybe<T>[] = [];
  for (let i = 0; i < keys.length; i += 10) {
    out.push(...await kv.getMany<T[]>(keys.slice(i, i + 10)));
  }
  return out;
}

function matches(item: Notification, filter: InboxFilter): boolean {
  if (filter === "archived") return item.archivedAt !== undefined;
  if (item.archivedAt !== undefined) return false;
  return filter === "all" || item.readAt === undefined;
}

/** Creates the store on `options.kv`. */
export function createInboxStore(options: InboxStoreOptions): InboxStore {
  const { kv } = options;
  const now = options.now ?? Date.now;
  const groupWindowMs = options.groupWindowMs ?? DEFAULT_GROUP_WINDOW_MS;
  const ratePerMinute = options.ratePerMinute ?? DEFAULT_RATE_PER_MINUTE;
  const maxItems = options.maxItems ?? MAX_INBOX_ITEMS;
  const retentionMs = options.retentionMs ?? RETENTION_MS;

  async function readHead(userId: string) {
    const entry = await kv.get<InboxHead>(notifHeadKey(userId));
    return { entry, head: structuredClone(entry.value ?? EMPTY_HEAD) };
  }

  /**
   * Retries `attempt` (which commits with a check of the head) while another change of
   * the same inbox commits first.
   */
  async function serialized<T>(what: string, attempt: () => Promise<T | null>): Promise<T> {
    for (let i = 0; i < MAX_COMMIT_TRIES; i++) {
      const result = await attempt();
      if (result !== null) return result;
      await pause(i);
    }
    throw new Error(`Cannot ${what}: the inbox kept changing (${MAX_COMMIT_TRIES} tries)`);
  }

  /**
   * Adds to `op` the removal of the oldest items while the inbox is over the bound, and of
   * expired ones, at most `limit`, skipping the items this commit writes (`skip`).
   */
  async function addTrim(
    op: Deno.AtomicOperation,
    userId: string,
    head: InboxHead,
    t: number,
    limit: number,
    skip: ReadonlySet<string>,
  ): Promise<void> {
    if (head.total <= 0) return;
    const expiredBefore = t - retentionMs;
    let removed = 0;
    const iter = kv.list<Notification>({ prefix: notifItemPrefix(userId) }, {
      limit: limit + skip.size,
    });
    for await (const entry of iter) {
      const item = entry.value;
      if (head.total <= maxItems && item.createdAt >= expiredBefore) break;
      if (skip.has(item.id)) continue;
      op.delete(entry.key);
      apply(head, item, null);
      if (++removed >= limit) break;
    }
  }

  /** Delivers `inputs` (in order); one commit per user and chunk of {@linkcode DELIVER_CHUNK}. */
  async function deliverMany(inputs: NotificationInput[]): Promise<DeliverOutcome[]> {
    const outcomes: DeliverOutcome[] = new Array(inputs.length);
    const byUser = new Map<string, number[]>();
    inputs.forEach((input, i) => {
      const list = byUser.get(input.userId) ?? [];
      list.push(i);
      byUser.set(input.userId, list);
    });
    await Promise.all([...byUser].map(async ([userId, indexes]) => {
      const prefs = await preferences(userId);
      const wanted: number[] = [];
      for (const i of indexes) {
        const input = inputs[i];
        if (prefs.muted.includes(input.category)) {
          outcomes[i] = { kind: "filtered", reason: "muted" };
        } else if (!allowedBy(prefs, input.category, input.priority)) {
          outcomes[i] = { kind: "filtered", reason: "priority" };
        } else wanted.push(i);
      }
      for (let c = 0; c < wanted.length; c += DELIVER_CHUNK) {
        const chunk = wanted.slice(c, c + DELIVER_CHUNK);
        const results = await serialized(
          "deliver the notifications",
          () => deliverChunk(userId, chunk.map((i) => inputs[i])),
        );
        chunk.forEach((i, k) => outcomes[i] = results[k]);
      }
    }));
    return outcomes;
  }

  /**
   * One commit for one user's `inputs` (all allowed by the preferences): checks the head and
   * every idempotency marker; null when another change committed first.
   */
  async function deliverChunk(
    userId: string,
    inputs: NotificationInput[],
  ): Promise<DeliverOutcome[] | null> {
    const t = now();
    const { entry: headEntry, head } = await readHead(userId);
    const idemEntries = await getMany<IdemMarker>(
      kv,
      inputs.map((input) => notifIdemKey(userId, input.idempotencyKey)),
    );
    const op = kv.atomic().check(headEntry);
    const checked = new Set<string>();
    /** Items written by this commit, by id (their latest state). */
    const written = new Map<string, Notification>();
    /** Groups opened or joined by this commit. */
    const groups = new Map<string, GroupEntry>();
    /** Keys delivered by this commit: a repeat within the batch is a duplicate. */
    const inBatch = new Map<string, IdemMarker>();
    type Pending =
      | { kind: "created" | "grouped"; id: string }
      | { kind: "duplicate"; was: IdemMarker["kind"]; id: string };
    const pending: Pending[] = [];
    const itemOf = async (id: string): Promise<Notification | null> =>
      written.get(id) ?? (await kv.get<Notification>(notifItemKey(userId, id))).value;

    for (let k = 0; k < inputs.length; k++) {
      const input = inputs[k];
      const idemKey = notifIdemKey(userId, input.idempotencyKey);
      const stored = idemEntries[k];
      const earlier = stored.value ?? inBatch.get(input.idempotencyKey);
      if (earlier) {
        pending.push({ kind: "duplicate", was: earlier.kind, id: earlier.id });
        continue;
      }
      if (!checked.has(input.idempotencyKey)) {
        op.check(stored);
        checked.add(input.idempotencyKey);
      }
      if (t - head.rate.start >= 60_000) head.rate = { start: t, count: 0 };
      const flooded = head.rate.count >= ratePerMinute;
      let groupKey: string | undefined;
      let until = t + groupWindowMs;
      if (flooded) {
        groupKey = `flood:${input.category}`;
        until = head.rate.start + 60_000;
      } else if (input.priority === "low" && input.groupKey) {
        groupKey = input.groupKey;
      }
      if (groupKey !== undefined) {
        const group = groups.get(groupKey) ??
          (await kv.get<GroupEntry>(notifGroupKey(userId, groupKey))).value;
        const old = group && group.until > t ? await itemOf(group.id) : null;
        if (old && old.archivedAt === undefined) {
          const item: Notification = {
            ...old,
            body: flooded ? input.title : input.body,
            data: flooded ? { category: input.category } : (input.data ?? {}),
            updatedAt: t,
            count: old.count + 1,
          };
          if (!flooded && input.link !== undefined) item.link = input.link;
          if (RANK[input.priority] > RANK[item.priority]) item.priority = input.priority;
          delete item.seenAt;
          delete item.readAt;
          apply(head, old, item);
          written.set(item.id, item);
          const marker: IdemMarker = { id: item.id, kind: "grouped" };
          op.set(idemKey, marker, { expireIn: IDEM_TTL_MS });
          inBatch.set(input.idempotencyKey, marker);
          pending.push({ kind: "grouped", id: item.id });
          continue;
        }
      }
      const id = nextId(head.lastId, t);
      const item: Notification = flooded
        ? {
          id,
          category: input.category,
          priority: input.priority,
          title: "More notifications",
          body: input.title,
          data: { category: input.category },
          createdAt: t,
          updatedAt: t,
          groupKey,
          count: 1,
        }
        : {
          id,
          category: input.category,
          priority: input.priority,
          title: input.title,
          body: input.body,
          data: input.data ?? {},
          createdAt: t,
          updatedAt: t,
          count: 1,
        };
      if (!flooded && input.link !== undefined) item.link = input.link;
      if (!flooded && input.groupKey !== undefined) item.groupKey = input.groupKey;
      apply(head, null, item);
      head.lastId = id;
      if (!flooded) head.rate.count++;
      written.set(id, item);
      if (groupKey !== undefined) groups.set(groupKey, { id, until });
      const marker: IdemMarker = { id, kind: "created" };
      op.set(idemKey, marker, { expireIn: IDEM_TTL_MS });
      inBatch.set(input.idempotencyKey, marker);
      pending.push({ kind: "created", id });
    }
    const changed = written.size > 0;
    if (changed) {
      await addTrim(
        op,
        userId,
        head,
        t,
        TRIM_PER_DELIVERY + inputs.length,
        new Set(written.keys()),
      );
      head.rev++;
      for (const item of written.values()) op.set(notifItemKey(userId, item.id), item);
      for (const [key, group] of groups) {
        op.set(notifGroupKey(userId, key), group, {
          expireIn: Math.max(1_000, group.until - t) + 60_000,
        });
      }
      op.set(notifHeadKey(userId), head);
      if (!(await op.commit()).ok) return null;
    }
    const counts = countsOf(head);
    const out: DeliverOutcome[] = [];
    for (const p of pending) {
      if (p.kind === "duplicate") {
        out.push({
          kind: "duplicate",
          was: p.was,
          item: await itemOf(p.id),
          counts,
          rev: head.rev,
        });
      } else {
        out.push({ kind: p.kind, item: written.get(p.id)!, counts, rev: head.rev });
      }
    }
    return out;
  }

  async function deliver(input: NotificationInput): Promise<DeliverOutcome> {
    return (await deliverMany([input]))[0];
  }

  async function trimExpired(userId: string): Promise<ChangeResult | null> {
    const t = now();
    const end = notifItemKey(userId, timePrefix(t - retentionMs));
    const first = kv.list({ prefix: notifItemPrefix(userId), end }, { limit: 1 });
    let any = false;
    for await (const _ of first) any = true;
    if (!any) return null;
    let last: ChangeResult | null = null;
    for (let round = 0; round < Math.ceil(maxItems / CHANGE_CHUNK) + 1; round++) {
      const result = await serialized("remove expired notifications", async () => {
        const { entry, head } = await readHead(userId);
        const op = kv.atomic().check(entry);
        const iter = kv.list<Notification>({ prefix: notifItemPrefix(userId), end }, {
          limit: CHANGE_CHUNK,
        });
        let removed = 0;
        for await (const e of iter) {
          op.delete(e.key);
          apply(head, e.value, null);
          removed++;
        }
        if (removed === 0) return { removed, counts: countsOf(head), rev: head.rev };
        head.rev++;
        op.set(notifHeadKey(userId), head);
        if (!(await op.commit()).ok) return null;
        return { removed, counts: countsOf(head), rev: head.rev };
      });
      if (result.removed > 0) {
        last = { updated: [], unknown: [], counts: result.counts, rev: result.rev };
      }
      if (result.removed < CHANGE_CHUNK) break;
    }
    return last;
  }

  async function list(userId: string, query: ListQuery = {}) {
    const trimmed = await trimExpired(userId);
    const limit = Math.max(
      1,
      Math.min(MAX_PAGE_LIMIT, Math.floor(query.limit ?? DEFAULT_PAGE_LIMIT)),
    );
    const filter = query.filter ?? "all";
    const { head } = await readHead(userId);
    const notBefore = now() - retentionMs;
    const prefix = notifItemPrefix(userId);
    const selector = query.cursor
      ? { prefix, end: notifItemKey(userId, query.cursor) }
      : { prefix };
    const iter = kv.list<Notification>(selector, {
      reverse: true,
      batchSize: Math.min(500, limit * 2 + 1),
      limit: maxItems + TRIM_PER_DELIVERY * 2,
    });
    const items: Notification[] = [];
    let more = false;
    for await (const entry of iter) {
      const item = entry.value;
      if (item.createdAt < notBefore || !matches(item, filter)) continue;
      if (items.length === limit) {
        more = true;
        break;
      }
      items.push(item);
    }
    return {
      items,
      counts: countsOf(head),
      next: more ? items[items.length - 1].id : null,
      rev: head.rev,
      trimmed: trimmed !== null,
    };
  }

  async function counts(userId: string) {
    const { head } = await readHead(userId);
    return { ...countsOf(head), rev: head.rev };
  }

  /**
   * Applies `change` to the items `ids` in one commit (ids de-duplicated, at most
   * {@linkcode CHANGE_CHUNK}); `change` returns the new item or null for "no change".
   */
  function changeItems(
    what: string,
    userId: string,
    ids: string[],
    change: (item: Notification, t: number) => Notification | null,
  ): Promise<ChangeResult> {
    const wanted = [...new Set(ids)].slice(0, CHANGE_CHUNK);
    return serialized(what, async () => {
      const t = now();
      const { entry, head } = await readHead(userId);
      const entries = await getMany<Notification>(kv, wanted.map((id) => notifItemKey(userId, id)));
      const unknown: string[] = [];
      const updated: Notification[] = [];
      const op = kv.atomic().check(entry);
      entries.forEach((e, i) => {
        if (!e.value) {
          unknown.push(wanted[i]);
          return;
        }
        const next = change(e.value, t);
        if (!next) return;
        apply(head, e.value, next);
        op.set(e.key, next);
        updated.push(next);
      });
      if (updated.length === 0) return { updated, unknown, counts: countsOf(head), rev: head.rev };
      head.rev++;
      op.set(notifHeadKey(userId), head);
      if (!(await op.commit()).ok) return null;
      return { updated, unknown, counts: countsOf(head), rev: head.rev };
    });
  }

  const seen = (item: Notification, t: number): Notification | null =>
    item.seenAt === undefined ? { ...item, seenAt: t } : null;
  const read = (item: Notification, t: number): Notification | null =>
    item.readAt === undefined ? { ...item, readAt: t, seenAt: item.seenAt ?? t } : null;
  const archived = (item: Notification, t: number): Notification | null =>
    item.archivedAt === undefined ? { ...item, archivedAt: t } : null;

  async function inChunks(
    what: string,
    userId: string,
    ids: string[],
    change: (item: Notification, t: number) => Notification | null,
  ): Promise<ChangeResult> {
    const unique = [...new Set(ids)];
    const total: ChangeResult = {
      updated: [],
      unknown: [],
      counts: { unseen: 0, unread: 0 },
      rev: 0,
    };
    for (let i = 0; i === 0 || i < unique.length; i += CHANGE_CHUNK) {
      const r = await changeItems(what, userId, unique.slice(i, i + CHANGE_CHUNK), change);
      total.updated.push(...r.updated);
      total.unknown.push(...r.unknown);
      total.counts = r.counts;
      total.rev = r.rev;
    }
    return total;
  }

  async function markAllRead(userId: string, upTo?: string): Promise<ChangeResult> {
    const total: ChangeResult = {
      updated: [],
      unknown: [],
      counts: { unseen: 0, unread: 0 },
      rev: 0,
    };
    let before = upTo;
    if (before === undefined) {
      const { head } = await readHead(userId);
      if (head.lastId === "") return { ...total, counts: countsOf(head), rev: head.rev };
      before = head.lastId;
    }
    // Keys up to and including `before`: `before + "\0"` sorts right after it.
    const end = notifItemKey(userId, before + "\0");
    for (let round = 0; round < Math.ceil(maxItems / CHANGE_CHUNK) + 2; round++) {
      const r = await serialized("mark all read", async () => {
        const t = now();
        const { entry, head } = await readHead(userId);
        const op = kv.atomic().check(entry);
        const updated: Notification[] = [];
        const iter = kv.list<Notification>({ prefix: notifItemPrefix(userId), end }, {
          reverse: true,
          limit: maxItems + TRIM_PER_DELIVERY * 2,
        });
        for await (const e of iter) {
          const item = e.value;
          if (item.archivedAt !== undefined || item.readAt !== undefined) continue;
          const next = read(item, t)!;
          apply(head, item, next);
          op.set(e.key, next);
          updated.push(next);
          if (updated.length === CHANGE_CHUNK) break;
        }
        if (updated.length === 0) return { updated, counts: countsOf(head), rev: head.rev };
        head.rev++;
        op.set(notifHeadKey(userId), head);
        if (!(await op.commit()).ok) return null;
        return { updated, counts: countsOf(head), rev: head.rev };
      });
      total.updated.push(...r.updated);
      total.counts = r.counts;
      total.rev = r.rev;
      if (r.updated.length < CHANGE_CHUNK) break;
    }
    return total;
  }

  async function preferences(userId: string): Promise<NotificationPreferences> {
    const value = (await kv.get<NotificationPreferences>(notifPrefsKey(userId))).value;
    const parsed = preferencesSchema.safeParse(value);
    return parsed.success ? parsed.data : structuredClone(DEFAULT_PREFERENCES);
  }

  async function setPreferences(
    userId: string,
    prefs: NotificationPreferences,
  ): Promise<NotificationPreferences> {
    const clean = preferencesSchema.parse(prefs);
    const value = { muted: [...new Set(clean.muted)], minPriority: clean.minPriority };
    await kv.set(notifPrefsKey(userId), value);
    return value;
  }

  async function deleteAll(userId: string): Promise<number> {
    let deleted = 0;
    let batch: Deno.KvKey[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const op = kv.atomic();
      for (const key of batch) op.delete(key);
      await op.commit();
      deleted += batch.length;
      batch = [];
    };
    for await (const entry of kv.list({ prefix: notifUserPrefix(userId) })) {
      batch.push(entry.key);
      if (batch.length >= 500) await flush();
    }
    await flush();
    return deleted;
  }

  return {
    deliver,
    deliverMany,
    list,
    counts,
    markSeen: (userId, ids) => inChunks("mark notifications seen", userId, ids, seen),
    markRead: (userId, ids) => inChunks("mark notifications read", userId, ids, read),
    markAllRead,
    archive: (userId, ids) => inChunks("archive notifications", userId, ids, archived),
    async get(userId, id) {
      return (await kv.get<Notification>(notifItemKey(userId, id))).value;
    },
    preferences,
    setPreferences,
    trimExpired,
    deleteAll,
  };
}

const RANK = { low: 0, normal: 1, high: 2, critical: 3 } as const;
