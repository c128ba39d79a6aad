/**
 * The processing step both backends share: check the done marker, claim the job with an
 * atomic check, run the handler while renewing the claim, then commit success (done
 * marker + delete, one atomic), a retry, or a dead letter.
 */
import { jobDeadKey, jobDoneKey, jobDueKey, jobKey } from "../kv/keys.ts";
import { type DoneMarker, type JobRecord, moveDue } from "./jobs_store.ts";
import type { DeadLetter, Job, JobLog } from "./jobs_types.ts";

/** Why the runner was asked to look at a job. */
export type Trigger =
  /** kv-queue: a message of generation `gen` arrived. */
  | { kind: "message"; gen: number }
  /** Outbox: the due-index entry `["job_due", queue, runAt, id]` says the job is due. */
  | { kind: "due"; runAt: number };

/** What one processing step did. */
export type Outcome =
  /** The handler succeeded and the done marker is committed. */
  | "done"
  /** The handler failed; the job is scheduled again. */
  | "retry"
  /** The job failed its last attempt (or its worker died in it) and is a dead letter now. */
  | "dead"
  /** The key's done marker existed: acknowledged without running the handler. */
  | "duplicate"
  /** No such job (already finished): nothing to do. */
  | "gone"
  /** Another worker's claim is live. */
  | "busy"
  /** kv-queue: the message belongs to an older attempt. Outbox: the due entry was stale (removed). */
  | "stale"
  /** Outbox: not due yet. */
  | "early"
  /** Another worker changed the job between our read and our claim. */
  | "raced"
  /** The handler ran but our claim was taken over meanwhile; the new holder finishes. */
  | "lost";

/** Everything {@linkcode JobRunner} needs. */
export interface RunnerConfig<T> {
  kv: Deno.Kv;
  queue: string;
  handler: (job: Job<T>) => Promise<void>;
  holder: string;
  now: () => number;
  maxAttempts: number;
  backoff: (attempt: number) => number;
  claimTtlMs: number;
  doneTtlMs: number;
  log: JobLog;
  onDeadLetter?: (dead: DeadLetter<T>) => void;
  /** Adds the backend's wake-up for `record`, due in `delayMs`, to `op`. */
  schedule(op: Deno.AtomicOperation, record: JobRecord<T>, delayMs: number): Deno.AtomicOperation;
}

/** Counters kept by the runner (see `JobStats`). */
export interface RunnerCounters {
  processed: number;
  retried: number;
  deadLettered: number;
  duplicatesSuppressed: number;
  running: number;
}

interface Held<T> {
  record: JobRecord<T>;
  versionstamp: string;
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/** Runs single jobs of one queue. Safe to call concurrently, in any number of isolates. */
export class JobRunner<T> {
  readonly counters: RunnerCounters = {
    processed: 0,
    retried: 0,
    deadLettered: 0,
    duplicatesSuppressed: 0,
    running: 0,
  };
  #config: RunnerConfig<T>;

  constructor(config: RunnerConfig<T>) {
    this.#config = config;
  }

  /** One processing step of job `id`; never throws for a handler failure (KV errors do). */
  async process(id: string, trigger: Trigger): Promise<Outcome> {
    const { kv, queue, now } = this.#config;
    const entry = await kv.get<JobRecord<T>>(jobKey(queue, id));
    const record = entry.value;
    if (!record || !entry.versionstamp) {
      if (trigger.kind === "due") await this.#dropDue(id, trigger.runAt, entry);
      return "gone";
    }
    if (trigger.kind === "due" && trigger.runAt !== record.runAt) {
      await this.#dropDue(id, trigger.runAt, entry);
      return "stale";
    }
    const done = await kv.get<DoneMarker>(jobDoneKey(queue, record.idempotencyKey));
    if (done.value) {
      const removed = await kv.atomic().check(entry)
        .delete(jobKey(queue, id))
        .delete(jobDueKey(queue, record.runAt, id))
        .commit();
      if (!removed.ok) return "raced";
      this.counters.duplicatesSuppressed++;
      return "duplicate";
    }
    const t = now();
    if (record.claim && record.claim.until > t) return "busy";
    const orphaned = record.claim !== null; // its worker died or stalled in the last attempt
    if (trigger.kind === "message" && trigger.gen !== record.attempts && !orphaned) return "stale";
    if (trigger.kind === "due" && record.runAt > t) return "early";
    const held = { record, versionstamp: entry.versionstamp };
    if (record.attempts >= this.#config.maxAttempts) {
      const reason = (orphaned
        ? `Cannot finish job: its worker stopped during attempt ${record.attempts}`
        : `Cannot run job: ${record.attempts} attempts reach maxAttempts`) +
        (record.lastError ? ` (earlier error: ${record.lastError})` : "");
      return await this.#deadLetter(held, reason) ? "dead" : "raced";
    }
    const claimed: JobRecord<T> = {
      ...record,
      attempts: record.attempts + 1,
      claim: { holder: this.#config.holder, until: t + this.#config.claimTtlMs },
      runAt: t + this.#config.claimTtlMs,
      firstAttemptAt: record.firstAttemptAt ?? t,
    };
    const op = kv.atomic().check(entry).set(jobKey(queue, id), claimed);
    const commit = await moveDue(op, queue, record, claimed).commit();
    if (!commit.ok) return "raced";
    return await this.#run({ record: claimed, versionstamp: commit.versionstamp });
  }

  /** Deletes a due entry that does not match the job record (checked unchanged). */
  async #dropDue(id: string, runAt: number, entry: Deno.KvEntryMaybe<JobRecord<T>>) {
    const { kv, queue } = this.#config;
    await kv.atomic().check(entry).delete(jobDueKey(queue, runAt, id)).commit();
  }

  async #run(held: Held<T>): Promise<Outcome> {
    const { record } = held;
    const job: Job<T> = {
      id: record.id,
      idempotencyKey: record.idempotencyKey,
      payload: record.payload,
      attempt: record.attempts,
      enqueuedAt: record.enqueuedAt,
    };
    this.counters.running++;
    let renewing: Promise<void> = Promise.resolve();
    let lost = false;
    const timer = setInterval(() => {
      renewing = renewing.then(async () => {
        if (lost) return;
        lost = !(await this.#renew(held));
      }).catch((err) => this.#config.log.warn("Cannot renew job claim", { id: job.id, err }));
    }, Math.max(1, Math.floor(this.#config.claimTtlMs / 3)));
    let failure: string | null = null;
    try {
      await this.#config.handler(job);
    } catch (err) {
      failure = errorMessage(err);
    } finally {
      clearInterval(timer);
      await renewing;
      this.counters.running--;
    }
    if (failure === null) return await this.#succeed(held);
    return await this.#fail(held, failure);
  }

  /** Extends the claim; false when the job is no longer ours. Mutates `held`. */
  async #renew(held: Held<T>): Promise<boolean> {
    const { kv, queue } = this.#config;
    const until = this.#config.now() + this.#config.claimTtlMs;
    const claim = { holder: this.#config.holder, until };
    const next: JobRecord<T> = { ...held.record, claim, runAt: until };
    const op = kv.atomic().check({ key: jobKey(queue, next.id), versionstamp: held.versionstamp })
      .set(jobKey(queue, next.id), next);
    const commit = await moveDue(op, queue, held.record, next).commit();
    if (!commit.ok) {
      this.#config.log.warn("Job claim was taken over while its handler ran", { id: next.id });
      return false;
    }
    held.record = next;
    held.versionstamp = commit.versionstamp;
    return true;
  }

  /** Done marker + delete in one atomic. If our claim was taken over, finishes for the new holder. */
  async #succeed(held: Held<T>): Promise<Outcome> {
    const { kv, queue, now } = this.#config;
    const id = held.record.id;
    const marker: DoneMarker = { id, completedAt: now() };
    let current: { record: JobRecord<T> | null; versionstamp: string | null } = held;
    for (let tries = 0; tries < 10; tries++) {
      let op = kv.atomic()
        .check({ key: jobKey(queue, id), versionstamp: current.versionstamp })
        .set(jobDoneKey(queue, held.record.idempotencyKey), marker, {
          expireIn: this.#config.doneTtlMs,
        })
        .delete(jobKey(queue, id))
        .delete(jobDeadKey(queue, id));
      if (current.record) op = op.delete(jobDueKey(queue, current.record.runAt, id));
      if ((await op.commit()).ok) {
        this.counters.processed++;
        return "done";
      }
      const entry = await kv.get<JobRecord<T>>(jobKey(queue, id));
      current = { record: entry.value, versionstamp: entry.versionstamp };
    }
    throw new Error(`Cannot record job ${id} as done: it keeps changing`);
  }

  async #fail(held: Held<T>, message: string): Promise<Outcome> {
    const { kv, queue, now, log } = this.#config;
    const record = held.record;
    if (record.attempts >= this.#config.maxAttempts) {
      return await this.#deadLetter(held, message) ? "dead" : "lost";
    }
    const delay = Math.max(0, this.#config.backoff(record.attempts));
    const next: JobRecord<T> = { ...record, claim: null, runAt: now() + delay, lastError: message };
    let op = kv.atomic().check({ key: jobKey(queue, record.id), versionstamp: held.versionstamp })
      .set(jobKey(queue, record.id), next);
    op = this.#config.schedule(moveDue(op, queue, record, next), next, delay);
    if (!(await op.commit()).ok) {
      log.warn("Job claim was taken over while its handler ran", { id: record.id });
      return "lost";
    }
    this.counters.retried++;
    log.warn("Job attempt failed; retrying", {
      queue,
      id: record.id,
      attempt: record.attempts,
      delayMs: delay,
      error: message,
    });
    return "retry";
  }

  async #deadLetter(held: Held<T>, message: string): Promise<boolean> {
    const { kv, queue, now } = this.#config;
    const { record } = held;
    const t = now();
    const dead: DeadLetter<T> = {
      id: record.id,
      idempotencyKey: record.idempotencyKey,
      payload: record.payload,
      attempts: record.attempts,
      lastError: message,
      enqueuedAt: record.enqueuedAt,
      firstAttemptAt: record.firstAttemptAt ?? t,
      failedAt: t,
    };
    const commit = await kv.atomic()
      .check({ key: jobKey(queue, record.id), versionstamp: held.versionstamp })
      .set(jobDeadKey(queue, record.id), dead)
      .delete(jobKey(queue, record.id))
      .delete(jobDueKey(queue, record.runAt, record.id))
      .commit();
    if (!commit.ok) return false;
    this.counters.deadLettered++;
    this.#config.log.error("Job dead-lettered", {
      queue,
      id: record.id,
      attempts: record.attempts,
      error: message,
    });
    try {
      this.#config.onDeadLetter?.(dead);
    } catch (err) {
      this.#config.log.error("onDeadLetter threw", { id: record.id, err });
    }
    return true;
  }
}
