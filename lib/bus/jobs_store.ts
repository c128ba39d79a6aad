/**
 * The KV side of durable jobs: the stored record, ids, and the enqueue commit. Both
 * backends keep the same records; they differ only in how a worker learns a job is due.
 */
import {
  jobDoneKey,
  jobDueKey,
  jobIdempotencyKey,
  jobKey,
  jobPointerKey,
  jobUndeliveredKey,
} from "../kv/keys.ts";
import type { EnqueueResult } from "./jobs_types.ts";

/** A worker's hold on a running job; others leave the job alone until `until`. */
export interface JobClaim {
  holder: string;
  /** ms since the epoch; renewed while the handler runs. */
  until: number;
}

/** What is stored under `["job", queue, id]`. */
export interface JobRecord<T> {
  id: string;
  idempotencyKey: string;
  payload: T;
  enqueuedAt: number;
  /** When the job may run next. While claimed: the claim's expiry (so a dead worker's job falls due). */
  runAt: number;
  /** Attempts started (claims taken). */
  attempts: number;
  claim: JobClaim | null;
  lastError: string | null;
  firstAttemptAt: number | null;
}

/** What is stored under `["job_done", queue, key]`. */
export interface DoneMarker {
  id: string;
  completedAt: number;
}

/**
 * A kv-queue message: a doorbell naming a job, never the payload. `gen` is the record's
 * `attempts` when the message was sent; a message of an older generation is stale.
 */
export interface JobMessage {
  queue: string;
  id: string;
  gen: number;
}

/** True for a message this module sent (other code may share the KV's queue). */
export function isJobMessage(value: unknown): value is JobMessage {
  if (typeof value !== "object" || value === null) return false;
  const m = value as Record<string, unknown>;
  return typeof m.queue === "string" && typeof m.id === "string" && typeof m.gen === "number";
}

/**
 * Retries KV itself makes of a message whose listener threw (only KV errors reach it:
 * handler failures are ours to retry) or whose isolate died; then it writes
 * `["job_undelivered", queue, id]`, which the sweep clears.
 */
const MESSAGE_BACKOFF_SCHEDULE = [1_000, 5_000, 30_000];

/** The `kv.enqueue` options of a doorbell for job `id`, delivered after `delayMs`. */
export function messageOptions(queue: string, id: string, delayMs: number) {
  return {
    delay: Math.max(0, Math.round(delayMs)),
    keysIfUndelivered: [jobUndeliveredKey(queue, id)],
    backoffSchedule: MESSAGE_BACKOFF_SCHEDULE,
  };
}

/** Adds the kv-queue doorbell of `record` to `op`, delivered after `delayMs`. */
export function addMessage(
  op: Deno.AtomicOperation,
  queue: string,
  record: JobRecord<unknown>,
  delayMs: number,
): Deno.AtomicOperation {
  const message: JobMessage = { queue, id: record.id, gen: record.attempts };
  return op.enqueue(message, messageOptions(queue, record.id, delayMs));
}

/** Adds to `op` the move of `from`'s due-index entry to `to`'s `runAt`. */
export function moveDue(
  op: Deno.AtomicOperation,
  queue: string,
  from: JobRecord<unknown>,
  to: JobRecord<unknown>,
): Deno.AtomicOperation {
  if (from.runAt === to.runAt) return op;
  return op.delete(jobDueKey(queue, from.runAt, from.id)).set(jobDueKey(queue, to.runAt, to.id), 1);
}

const CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz";

/** A time-ordered id: 10 characters of ms, 16 random ones (a lower-case ULID). */
export function newJobId(nowMs: number): string {
  let time = "";
  let t = Math.max(0, Math.floor(nowMs));
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let rand = "";
  for (const b of bytes) rand += CROCKFORD[b % 32];
  return time + rand;
}

/** How {@linkcode insertJob} signals the backend in the same commit. */
export interface InsertOptions {
  /** How long the idempotency index outlives the job's `runAt`. */
  idempotencyTtlMs: number;
  /** kv-queue: enqueue the doorbell in the commit. */
  message: boolean;
  /** Outbox: bump `["job_ptr", queue]` in the commit so the lease holder wakes. */
  bumpPointer: boolean;
}

/**
 * Commits a new job: record, due entry and idempotency index in one atomic, checking that
 * neither the key's index nor its done marker exists. Resolves after the commit; a taken
 * key answers `{ duplicate: true }` with the owner's id and writes nothing.
 */
export async function insertJob<T>(
  kv: Deno.Kv,
  queue: string,
  record: JobRecord<T>,
  options: InsertOptions,
): Promise<EnqueueResult> {
  const idemKey = jobIdempotencyKey(queue, record.idempotencyKey);
  const doneKey = jobDoneKey(queue, record.idempotencyKey);
  for (let tries = 0; tries < 5; tries++) {
    let op = kv.atomic()
      .check({ key: idemKey, versionstamp: null })
      .check({ key: doneKey, versionstamp: null })
      .set(jobKey(queue, record.id), record)
      .set(jobDueKey(queue, record.runAt, record.id), 1)
      .set(idemKey, record.id, {
        expireIn: Math.max(0, record.runAt - record.enqueuedAt) + options.idempotencyTtlMs,
      });
    if (options.bumpPointer) op = op.sum(jobPointerKey(queue), 1n);
    if (options.message) op = addMessage(op, queue, record, record.runAt - record.enqueuedAt);
    let result: Deno.KvCommitResult | Deno.KvCommitError;
    try {
      result = await op.commit();
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new Error(`Cannot enqueue job: ${detail}`, { cause: err });
    }
    if (result.ok) return { id: record.id, duplicate: false };
    const [idem, done] = await kv.getMany<[string, DoneMarker]>([idemKey, doneKey]);
    const owner = idem.value ?? done.value?.id;
    if (owner) return { id: owner, duplicate: true };
    // Both expired between the commit and the read: try again.
  }
  throw new Error(`Cannot enqueue job: idempotency key "${record.idempotencyKey}" keeps changing`);
}
