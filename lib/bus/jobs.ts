/**
 * Durable jobs on Deno KV: persisted before acknowledged, delivered at least once,
 * applied exactly once per idempotency key (done markers), retried with backoff, then
 * dead-lettered. Two backends over the same records: KV's queue (local KV) or an outbox
 * run by one lease holder (KV Connect / Deno Deploy). See JOBS.md.
 *
 * ```ts
 * const notify = await createJobQueue<{ userId: string; text: string }>({
 *   kv, name: "notify", handler: (job) => send(job.payload, job.idempotencyKey),
 * });
 * notify.start(signal);
 * await notify.enqueue({ userId, text }, { idempotencyKey: `welcome:${userId}` });
 * ```
 *
 * @module
 */
import { jobDeadKey, jobDeadPrefix, jobDueKey, jobKey, jobPointerKey } from "../kv/keys.ts";
import { addMessage, insertJob, type JobRecord, newJobId } from "./jobs_store.ts";
import { JobRunner } from "./jobs_runner.ts";
import { KvQueueWorker } from "./jobs_kv_queue.ts";
import { OutboxWorker } from "./jobs_outbox.ts";
import {
  type DeadLetter,
  defaultBackoff,
  type EnqueueOptions,
  type EnqueueResult,
  type JobBackend,
  type JobLog,
  type JobQueue,
  type JobQueueOptions,
  type JobStats,
} from "./jobs_types.ts";

export * from "./jobs_types.ts";
export { type QueueDispatcher, queueDispatcher, type QueueRoute } from "./jobs_dispatcher.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

const consoleLog: JobLog = {
  warn: (msg, fields) => console.warn(msg, fields ?? {}),
  error: (msg, fields) => console.error(msg, fields ?? {}),
};

/** The backend `options` ask for: `auto` is `outbox` on remote KV, else `kv-queue`. */
export function chooseBackend(
  options: { backend?: JobQueueOptions<unknown>["backend"]; remote?: boolean },
): JobBackend {
  const backend = options.backend ?? "auto";
  if (backend === "auto") return options.remote ? "outbox" : "kv-queue";
  return backend;
}

function positive(value: number | undefined, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (!(v > 0) || !Number.isFinite(v)) {
    throw new RangeError(`Cannot create job queue: ${what} must be a positive number, got ${v}`);
  }
  return v;
}

/** Creates the queue `options.name` on `options.kv`. Call `start()` to process jobs here. */
export function createJobQueue<T>(options: JobQueueOptions<T>): Promise<JobQueue<T>> {
  try {
    return Promise.resolve(new DurableJobQueue(options));
  } catch (err) {
    return Promise.reject(err);
  }
}

interface Worker {
  start(): void;
  stop(): Promise<void>;
}

class DurableJobQueue<T> implements JobQueue<T> {
  readonly name: string;
  readonly backend: JobBackend;
  #kv: Deno.Kv;
  #now: () => number;
  #doneTtlMs: number;
  #runner: JobRunner<T>;
  #worker: KvQueueWorker<T> | OutboxWorker<T>;
  #running: Worker | null = null;
  #duplicateEnqueues = 0;
  #abort: (() => void) | null = null;
  #signal: AbortSignal | null = null;

  constructor(options: JobQueueOptions<T>) {
    if (!options.name || typeof options.name !== "string") {
      throw new TypeError("Cannot create job queue: name must be a non-empty string");
    }
    this.name = options.name;
    this.backend = chooseBackend(options);
    this.#kv = options.kv;
    this.#now = options.now ?? Date.now;
    this.#doneTtlMs = positive(options.doneTtlMs, 7 * DAY_MS, "doneTtlMs");
    const log = options.log ?? consoleLog;
    const holder = options.holder ?? crypto.randomUUID();
    const concurrency = Math.floor(positive(options.concurrency, 8, "concurrency"));
    const outbox = this.backend === "outbox";
    this.#runner = new JobRunner<T>({
      kv: this.#kv,
      queue: this.name,
      handler: options.handler,
      holder,
      now: this.#now,
      maxAttempts: Math.floor(positive(options.maxAttempts, 5, "maxAttempts")),
      backoff: options.backoff ?? ((attempt) => defaultBackoff(attempt)),
      claimTtlMs: positive(options.claimTtlMs, 30_000, "claimTtlMs"),
      doneTtlMs: this.#doneTtlMs,
      log,
      onDeadLetter: options.onDeadLetter,
      schedule: (op, record, delayMs) =>
        outbox ? op.sum(jobPointerKey(this.name), 1n) : addMessage(op, this.name, record, delayMs),
    });
    const common = {
      kv: this.#kv,
      queue: this.name,
      runner: this.#runner,
      now: this.#now,
      concurrency,
      log,
    };
    this.#worker = outbox
      ? new OutboxWorker<T>({
        ...common,
        holder,
        leaseTtlMs: positive(options.leaseTtlMs, 10_000, "leaseTtlMs"),
      })
      : new KvQueueWorker<T>({
        ...common,
        sweepGraceMs: Math.max(0, options.sweepGraceMs ?? 60_000),
        sweepIntervalMs: positive(options.sweepIntervalMs, 10_000, "sweepIntervalMs"),
        deferMs: positive(options.deferMs, 250, "deferMs"),
      });
  }

  async enqueue(payload: T, options: EnqueueOptions = {}): Promise<EnqueueResult> {
    const t = this.#now();
    const id = newJobId(t);
    const record: JobRecord<T> = {
      id,
      idempotencyKey: options.idempotencyKey ?? id,
      payload,
      enqueuedAt: t,
      runAt: t + Math.max(0, options.delayMs ?? 0),
      attempts: 0,
      claim: null,
      lastError: null,
      firstAttemptAt: null,
    };
    const result = await insertJob(this.#kv, this.name, record, {
      idempotencyTtlMs: this.#doneTtlMs,
      message: this.backend === "kv-queue",
      bumpPointer: this.backend === "outbox",
    });
    if (result.duplicate) this.#duplicateEnqueues++;
    return result;
  }

  start(signal?: AbortSignal): void {
    if (this.#running) return;
    if (signal?.aborted) return;
    this.#running = this.#worker;
    this.#worker.start();
    if (signal) {
      const abort = () => void this.stop();
      signal.addEventListener("abort", abort, { once: true });
      this.#signal = signal;
      this.#abort = abort;
    }
  }

  async stop(): Promise<void> {
    const worker = this.#running;
    if (!worker) return;
    this.#running = null;
    if (this.#abort) this.#signal?.removeEventListener("abort", this.#abort);
    this.#abort = null;
    this.#signal = null;
    await worker.stop();
  }

  async deadLetters(limit = 100): Promise<DeadLetter<T>[]> {
    const dead: DeadLetter<T>[] = [];
    for await (
      const entry of this.#kv.list<DeadLetter<T>>({ prefix: jobDeadPrefix(this.name) }, { limit })
    ) {
      dead.push(entry.value);
    }
    return dead;
  }

  async retryDeadLetter(id: string): Promise<boolean> {
    const entry = await this.#kv.get<DeadLetter<T>>(jobDeadKey(this.name, id));
    const dead = entry.value;
    if (!dead) return false;
    const t = this.#now();
    const record: JobRecord<T> = {
      id,
      idempotencyKey: dead.idempotencyKey,
      payload: dead.payload,
      enqueuedAt: dead.enqueuedAt,
      runAt: t,
      attempts: 0,
      claim: null,
      lastError: null,
      firstAttemptAt: null,
    };
    let op = this.#kv.atomic()
      .check(entry)
      .check({ key: jobKey(this.name, id), versionstamp: null })
      .delete(jobDeadKey(this.name, id))
      .set(jobKey(this.name, id), record)
      .set(jobDueKey(this.name, record.runAt, id), 1);
    op = this.backend === "outbox"
      ? op.sum(jobPointerKey(this.name), 1n)
      : addMessage(op, this.name, record, 0);
    return (await op.commit()).ok;
  }

  stats(): JobStats {
    const c = this.#runner.counters;
    const stats: JobStats = {
      backend: this.backend,
      processed: c.processed,
      retried: c.retried,
      deadLettered: c.deadLettered,
      duplicatesSuppressed: c.duplicatesSuppressed,
      duplicateEnqueues: this.#duplicateEnqueues,
      running: c.running,
      swept: 0,
      deferred: 0,
      waiting: 0,
    };
    const worker = this.#worker;
    if (worker instanceof KvQueueWorker) {
      stats.swept = worker.swept;
      stats.deferred = worker.deferred;
      stats.waiting = worker.waiting;
    } else {
      stats.leader = worker.leader;
    }
    return stats;
  }
}
