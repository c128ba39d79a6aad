/**
 * Durable delivery of notifications (docs/NOTIFICATIONS.md): producers call
 * {@linkcode Notifier.notify}, which validates the input and commits a job of the queue
 * `notify` (lib/bus/jobs.ts: KV's own queue where the KV has one, the outbox otherwise)
 * with the idempotency key `{userId}:{idempotencyKey}`. The job's handler delivers into the
 * inbox (idempotent by the same key, in the inbox's own commit) and then publishes the
 * change on `user:{userId}` (idempotent on the bus by the same key). So:
 *
 * - an isolate dying before the inbox commit: the job runs again elsewhere;
 * - dying after it but before the publish or the job's done marker: the job runs again,
 *   finds the delivery committed, and publishes it (once: the bus remembers the key);
 * - a job that keeps failing (a poison payload) is dead-lettered after `maxAttempts`, never
 *   holding back the others, and counted in {@linkcode Notifier.status}.
 *
 * System announcements fan out through a second queue, `notify-fanout` (announce.ts).
 *
 * @module
 */
import type { BusEngine, BusMessage } from "../bus/engine.ts";
import {
  createJobQueue,
  type EnqueueResult,
  type Job,
  type JobBackend,
  type JobLog,
  type JobQueue,
  type JobQueueOptions,
  type JobStats,
} from "../bus/jobs.ts";
import { accountKey } from "../kv/keys.ts";
import { userChannel } from "../app/channels.ts";
import { type Announcement, announcementOf, type FanoutJob } from "./announce.ts";
import { changeEvents } from "./events.ts";
import { NotificationInputError, parseNotificationInput } from "./schema.ts";
import {
  type ChangeResult,
  createInboxStore,
  type DeliverOutcome,
  type InboxStore,
  type InboxStoreOptions,
} from "./store.ts";
import type { InboxEvent, NotificationInput } from "./types.ts";

/**
 * A job of the `notify` queue: one notification, or several delivered together (one
 * inbox commit per user), e.g. the firings of one alert-engine commit.
 */
export type NotifyJob = NotificationInput | { batch: NotificationInput[] };

/** Bytes of a batch job's payload at most (a KV value holds 64 KiB, with the job record). */
const MAX_BATCH_JOB_BYTES = 48 * 1024;

/** What {@linkcode Notifier.notifyMany} did. */
export interface NotifyManyResult {
  /** Jobs committed (one per batch that fits a job). */
  jobs: number;
  /** Inputs refused by validation (index into the inputs, and why). */
  refused: { index: number; error: NotificationInputError }[];
}

/** The queue names. */
export const NOTIFY_QUEUE = "notify";
export const FANOUT_QUEUE = "notify-fanout";

/** Job tunables a deployment or a test may change (defaults in {@linkcode NotifierOptions}). */
export type NotifierJobOptions = Partial<
  Pick<
    JobQueueOptions<unknown>,
    | "maxAttempts"
    | "backoff"
    | "claimTtlMs"
    | "leaseTtlMs"
    | "sweepIntervalMs"
    | "sweepGraceMs"
    | "concurrency"
  >
>;

/** Options of {@linkcode createNotifier}. */
export interface NotifierOptions {
  kv: Deno.Kv;
  /** Where changes are announced (`user:{userId}`). */
  bus: Pick<BusEngine, "publish">;
  /** KV is remote (KV Connect, Deno Deploy): `auto` picks the outbox backend. */
  remote?: boolean;
  /** Default `auto`. */
  backend?: "auto" | JobBackend;
  /** This isolate's id (claims, outbox lease). */
  holder?: string;
  now?: () => number;
  log?: JobLog;
  /** Inbox tunables (grouping window, rate, bounds). */
  store?: Omit<InboxStoreOptions, "kv" | "now">;
  /**
   * Job tunables. Defaults here: `claimTtlMs` 5 000 (a delivery is a few commits; a dead
   * worker's job is retried after this), `leaseTtlMs` 5 000, `sweepIntervalMs` 5 000,
   * `sweepGraceMs` 15 000, `maxAttempts` 5, `concurrency` 16.
   */
  jobs?: NotifierJobOptions;
  /** Accounts per fan-out batch. Default 100. */
  announceBatch?: number;
  /** The user ids after `after`, at most `limit`, in order (default: the account records). */
  listUsers?: (after: string | null, limit: number) => Promise<string[]>;
}

/** Counters of this isolate. */
export interface NotifierCounters {
  /** Deliveries that created an item. */
  created: number;
  /** Deliveries that joined an existing item. */
  grouped: number;
  /** Deliveries found already committed (a job that ran again). */
  duplicates: number;
  /** Deliveries dropped by the user's preferences. */
  filtered: number;
  /** Messages published on `user:` channels. */
  published: number;
  /** Announcements fanned out (batches run). */
  fanoutBatches: number;
}

/** What `/api/websocket/status` shows under `notifications`. */
export interface NotifierStatus {
  backend: JobBackend;
  counters: NotifierCounters;
  delivery: JobStats;
  fanout: JobStats;
  /** Dead letters of the delivery queue, cluster-wide (`count` stops at 100). */
  deadLetters: {
    count: number;
    capped: boolean;
    oldest: {
      id: string;
      userId: string | null;
      title: string | null;
      attempts: number;
      error: string;
      failedAt: string;
    }[];
  };
}

/** Durable notification delivery (see the module comment). */
export interface Notifier {
  readonly store: InboxStore;
  readonly backend: JobBackend;
  /**
   * Validates `input` (throws `NotificationInputError`) and commits its delivery job;
   * resolves once committed. A repeated `(userId, idempotencyKey)` is `duplicate: true`.
   */
  notify(input: NotificationInput, options?: { delayMs?: number }): Promise<EnqueueResult>;
  /**
   * Commits the delivery of many notifications in as few jobs as fit (each delivered with
   * one inbox commit per user); invalid inputs are refused and reported, the others go.
   * Exactly once per `(userId, idempotencyKey)` still holds: the inbox checks each key.
   */
  notifyMany(inputs: NotificationInput[]): Promise<NotifyManyResult>;
  /** Commits the fan-out of `announcement` to every account. */
  announce(announcement: Announcement): Promise<EnqueueResult>;
  /** Feed every bus message: `system` ones become announcements (once cluster-wide). */
  onBusMessage(message: BusMessage): void;
  /** Publishes what a change of items did (seen / read / archive / trim) on `user:{userId}`. */
  publishChange(
    userId: string,
    change: Pick<ChangeResult, "updated" | "counts" | "rev">,
  ): Promise<void>;
  /** Starts delivering in this isolate. */
  start(signal?: AbortSignal): void;
  /** Stops delivering; waits for running deliveries. */
  stop(): Promise<void>;
  status(): Promise<NotifierStatus>;
}

const utf8 = new TextEncoder();

const consoleLog: JobLog = {
  warn: (msg, fields) => console.warn(msg, fields ?? {}),
  error: (msg, fields) => console.error(msg, fields ?? {}),
};

function defaultListUsers(kv: Deno.Kv) {
  return async (after: string | null, limit: number): Promise<string[]> => {
    const ids: string[] = [];
    const selector = after === null
      ? { prefix: ["account"] }
      : { prefix: ["account"], start: accountKey(after + "\0") };
    for await (const entry of kv.list(selector, { limit })) ids.push(String(entry.key[1]));
    return ids;
  };
}

/** Creates the notifier; call `start()` to deliver in this isolate. */
export async function createNotifier(options: NotifierOptions): Promise<Notifier> {
  const { kv, bus } = options;
  const now = options.now ?? Date.now;
  const log = options.log ?? consoleLog;
  const holder = options.holder ?? crypto.randomUUID();
  const store = createInboxStore({ ...options.store, kv, now });
  const batchSize = Math.max(1, Math.floor(options.announceBatch ?? 100));
  const listUsers = options.listUsers ?? defaultListUsers(kv);
  const counters: NotifierCounters = {
    created: 0,
    grouped: 0,
    duplicates: 0,
    filtered: 0,
    published: 0,
    fanoutBatches: 0,
  };
  const common = {
    kv,
    remote: options.remote,
    backend: options.backend,
    holder,
    now,
    log,
    claimTtlMs: 5_000,
    leaseTtlMs: 5_000,
    sweepIntervalMs: 5_000,
    sweepGraceMs: 15_000,
    concurrency: 16,
    ...options.jobs,
  };

  async function publish(userId: string, event: InboxEvent, idempotencyKey?: string) {
    await bus.publish(userChannel(userId), event, idempotencyKey ? { idempotencyKey } : {});
    counters.published++;
  }

  async function deliver(job: Job<NotifyJob>): Promise<void> {
    const payload = job.payload;
    if (
      payload && typeof payload === "object" && "batch" in payload && Array.isArray(payload.batch)
    ) {
      const valid: NotificationInput[] = [];
      for (const raw of payload.batch) {
        try {
          valid.push(parseNotificationInput(raw));
        } catch {
          // Cannot happen unless stored by another version: alone, it retries and dead-letters.
          await delivery.enqueue(raw as NotificationInput, {
            idempotencyKey: `invalid:${job.id}:${valid.length}`,
          });
        }
      }
      const outcomes = await store.deliverMany(valid);
      await Promise.all(outcomes.map((o, i) => announce(valid[i], o)));
      return;
    }
    // A payload that does not validate (written by another version, corrupted) throws:
    // retried, then dead-lettered.
    const input = parseNotificationInput(payload);
    await announce(input, await store.deliver(input));
  }

  /** Counts what a delivery did and publishes it on `user:{userId}`. */
  async function announce(input: NotificationInput, outcome: DeliverOutcome): Promise<void> {
    const key = `d:${input.idempotencyKey}`;
    switch (outcome.kind) {
      case "created":
        counters.created++;
        return await publish(input.userId, {
          type: "notification",
          item: outcome.item,
          counts: outcome.counts,
          rev: outcome.rev,
        }, key);
      case "grouped":
        counters.grouped++;
        return await publish(input.userId, {
          type: "updated",
          items: [outcome.item],
          counts: outcome.counts,
          rev: outcome.rev,
        }, key);
      case "duplicate":
        // Committed by an earlier run that may have died before publishing: publish now
        // (the bus answers the first publish if there was one).
        counters.duplicates++;
        if (!outcome.item) return;
        return await publish(
          input.userId,
          outcome.was === "created"
            ? { type: "notification", item: outcome.item, counts: outcome.counts, rev: outcome.rev }
            : { type: "updated", items: [outcome.item], counts: outcome.counts, rev: outcome.rev },
          key,
        );
      case "filtered":
        counters.filtered++;
        return;
    }
  }

  const delivery: JobQueue<NotifyJob> = await createJobQueue<NotifyJob>({
    ...common,
    name: NOTIFY_QUEUE,
    handler: deliver,
    onDeadLetter: (dead) => {
      const p = dead.payload as Partial<NotificationInput> | null;
      log.error("notification dead-lettered", {
        id: dead.id,
        userId: typeof p?.userId === "string" ? p.userId : null,
        attempts: dead.attempts,
        error: dead.lastError,
      });
    },
  });

  async function fanout(job: Job<FanoutJob>): Promise<void> {
    const { announcement: a, after, batch } = job.payload;
    const users = await listUsers(after, batchSize);
    for (const userId of users) {
      const input: NotificationInput = {
        userId,
        category: "system",
        priority: a.priority,
        title: a.title,
        body: a.body,
        idempotencyKey: a.key,
        data: {},
      };
      if (a.link) input.link = a.link;
      await notify(input);
    }
    counters.fanoutBatches++;
    if (users.length === batchSize) {
      const next: FanoutJob = { announcement: a, after: users[users.length - 1], batch: batch + 1 };
      await fanoutQueue.enqueue(next, { idempotencyKey: `${a.key}:${batch + 1}` });
    }
  }

  const fanoutQueue: JobQueue<FanoutJob> = await createJobQueue<FanoutJob>({
    ...common,
    name: FANOUT_QUEUE,
    handler: fanout,
  });

  function notify(input: NotificationInput, opts: { delayMs?: number } = {}) {
    const valid = parseNotificationInput(input);
    return delivery.enqueue(valid, {
      idempotencyKey: `${valid.userId}:${valid.idempotencyKey}`,
      delayMs: opts.delayMs,
    });
  }

  async function notifyMany(inputs: NotificationInput[]): Promise<NotifyManyResult> {
    const refused: NotifyManyResult["refused"] = [];
    const valid: NotificationInput[] = [];
    inputs.forEach((input, index) => {
      try {
        valid.push(parseNotificationInput(input));
      } catch (err) {
        if (!(err instanceof NotificationInputError)) throw err;
        refused.push({ index, error: err });
      }
    });
    const batches: NotificationInput[][] = [];
    let batch: NotificationInput[] = [];
    let bytes = 0;
    for (const input of valid) {
      const size = utf8.encode(JSON.stringify(input)).length;
      if (batch.length > 0 && bytes + size > MAX_BATCH_JOB_BYTES) {
        batches.push(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(input);
      bytes += size;
    }
    if (batch.length > 0) batches.push(batch);
    await Promise.all(batches.map(async (b) => {
      if (b.length === 1) return await notify(b[0]);
      // The job's key names its contents; the inbox checks each item's own key anyway.
      const keys = b.map((i) => `${i.userId}:${i.idempotencyKey}`).sort().join("\n");
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", utf8.encode(keys)));
      const hex = [...digest.slice(0, 16)].map((x) => x.toString(16).padStart(2, "0")).join("");
      return await delivery.enqueue({ batch: b }, { idempotencyKey: `batch:${hex}` });
    }));
    return { jobs: batches.length, refused };
  }

  return {
    store,
    backend: delivery.backend,
    notifyMany,
    notify: (input, opts) => {
      try {
        return notify(input, opts);
      } catch (err) {
        return Promise.reject(err);
      }
    },
    announce: (announcement) =>
      fanoutQueue.enqueue({ announcement, after: null, batch: 0 }, {
        idempotencyKey: `${announcement.key}:0`,
      }),
    onBusMessage(message) {
      const announcement = announcementOf(message);
      if (!announcement) return;
      fanoutQueue.enqueue({ announcement, after: null, batch: 0 }, {
        idempotencyKey: `${announcement.key}:0`,
      }).catch((err) => log.warn("Cannot enqueue an announcement", { key: announcement.key, err }));
    },
    async publishChange(userId, change) {
      for (const event of changeEvents(change.updated, change.counts, change.rev)) {
        await publish(userId, event);
      }
    },
    start(signal) {
      delivery.start(signal);
      fanoutQueue.start(signal);
    },
    async stop() {
      await Promise.all([delivery.stop(), fanoutQueue.stop()]);
    },
    async status() {
      const dead = await delivery.deadLetters(101);
      return {
        backend: delivery.backend,
        counters: { ...counters },
        delivery: delivery.stats(),
        fanout: fanoutQueue.stats(),
        deadLetters: {
          count: Math.min(100, dead.length),
          capped: dead.length > 100,
          oldest: dead.slice(0, 10).map((d) => {
            const p = d.payload as Partial<NotificationInput> | null;
            return {
              id: d.id,
              userId: typeof p?.userId === "string" ? p.userId : null,
              title: typeof p?.title === "string" ? p.title.slice(0, 200) : null,
              attempts: d.attempts,
              error: d.lastError.slice(0, 500),
              failedAt: new Date(d.failedAt).toISOString(),
            };
          }),
        },
      };
    },
  };
}
