/**
 * The public contract of durable jobs (see JOBS.md): options with a documented default per
 * field, the job a handler receives, dead letters and counters.
 */

/** Where jobs wait: Deno KV's own queue, or records polled by one lease holder. */
export type JobBackend = "kv-queue" | "outbox";

/** A job as its handler receives it. */
export interface Job<T> {
  /** Unique, time-ordered id given at enqueue. */
  id: string;
  /** The key the result must be idempotent by (the id unless the caller gave one). */
  idempotencyKey: string;
  payload: T;
  /** 1 on the first run, 2 on the first retry … */
  attempt: number;
  /** ms since the epoch, when the job was committed. */
  enqueuedAt: number;
}

/** A job that failed `maxAttempts` times, kept under `["job_dead", name, id]`. */
export interface DeadLetter<T> {
  id: string;
  idempotencyKey: string;
  payload: T;
  /** Attempts started, including one whose worker died (claim expired). */
  attempts: number;
  /** Message of the last error. */
  lastError: string;
  enqueuedAt: number;
  /** When the first attempt started. */
  firstAttemptAt: number;
  /** When the job was dead-lettered. */
  failedAt: number;
}

/** Where warnings and errors go (lib/app/log.ts's `Logger` fits). */
export interface JobLog {
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Options of `createJobQueue`. */
export interface JobQueueOptions<T> {
  /** The KV the jobs live in (from `openKv`, so writes retry while locked). */
  kv: Deno.Kv;
  /** Queue name, e.g. `notify`: part of every key, and the route of kv-queue messages. */
  name: string;
  /** Does the work. Throwing (or rejecting) is a failure; it must be idempotent by key. */
  handler: (job: Job<T>) => Promise<void>;
  /**
   * `auto` (default): `outbox` when {@linkcode JobQueueOptions.remote}, else `kv-queue`.
   * `kv-queue` needs `kv.listenQueue` (local KV); `outbox` works on any KV with `watch`.
   */
  backend?: "auto" | JobBackend;
  /**
   * True when `kv` was opened from a KV Connect URL / Deno Deploy. A `Deno.Kv` handle
   * cannot tell, so the caller says. Default false. Only used by `backend: "auto"`.
   */
  remote?: boolean;
  /** Attempts before a job is dead-lettered. Default 5. */
  maxAttempts?: number;
  /** ms to wait before retry after failed attempt `n` (1-based). Default {@linkcode defaultBackoff}. */
  backoff?: (attempt: number) => number;
  /** Unique id of this isolate, used in claims and the outbox lease. Default a random UUID. */
  holder?: string;
  /** Clock for claims, leases, `runAt` and times. Default `Date.now`. */
  now?: () => number;
  /** Handlers running at once in this isolate. Default 8. */
  concurrency?: number;
  /**
   * How long a claim on a running job lasts; renewed every third of it while the handler
   * runs. A job whose worker died is retried once its claim has expired. Default 30 000.
   */
  claimTtlMs?: number;
  /** Outbox: how long the processing lease `jobs:<name>` lasts unless renewed. Default 10 000. */
  leaseTtlMs?: number;
  /**
   * kv-queue: the sweep (on start and every `sweepIntervalMs`) sends a new message for a
   * job whose claim expired (its worker died) and for an unclaimed job overdue by this
   * much (its message was lost). Default 60 000.
   */
  sweepGraceMs?: number;
  /** kv-queue: period of the sweep. Default 10 000. */
  sweepIntervalMs?: number;
  /** How long the done marker (and the idempotency index) is kept. Default 7 days. */
  doneTtlMs?: number;
  /** kv-queue: base wait before a message that found this isolate saturated returns. Default 250. */
  deferMs?: number;
  /** Called after a job is dead-lettered. */
  onDeadLetter?: (dead: DeadLetter<T>) => void;
  log?: JobLog;
}

/** Options of `JobQueue.enqueue`. */
export interface EnqueueOptions {
  /** Jobs with the same key are one job: the second enqueue is a duplicate. Default: the id. */
  idempotencyKey?: string;
  /** Run no earlier than this many ms from now. Default 0. */
  delayMs?: number;
}

/** The answer of `JobQueue.enqueue`, given once the job is committed. */
export interface EnqueueResult {
  /** The job's id; for a duplicate, the id of the job that owns the key. */
  id: string;
  /** True when the key was already taken: nothing was added. */
  duplicate: boolean;
}

/** Counters of one queue in this isolate since it was created. */
export interface JobStats {
  backend: JobBackend;
  /** Handler runs that succeeded. */
  processed: number;
  /** Failed attempts scheduled again. */
  retried: number;
  deadLettered: number;
  /** Deliveries acknowledged without running the handler: the key's done marker existed. */
  duplicatesSuppressed: number;
  /** Enqueues answered `duplicate: true`. */
  duplicateEnqueues: number;
  /** Handlers running now. */
  running: number;
  /** kv-queue: overdue jobs enqueued again by the sweep. */
  swept: number;
  /** kv-queue: messages sent back to the queue because this isolate was saturated. */
  deferred: number;
  /** kv-queue: messages held in memory waiting for a free slot (at most 4 × concurrency). */
  waiting: number;
  /** Outbox: whether this isolate holds the processing lease. */
  leader?: boolean;
}

/** A durable job queue (see JOBS.md). */
export interface JobQueue<T> {
  readonly name: string;
  readonly backend: JobBackend;
  /** Commits the job (record + idempotency index in one atomic), then resolves. */
  enqueue(payload: T, options?: EnqueueOptions): Promise<EnqueueResult>;
  /** Starts processing in this isolate; `signal` stops it like {@linkcode JobQueue.stop}. */
  start(signal?: AbortSignal): void;
  /** Stops taking jobs, waits for running handlers, gives up the outbox lease. */
  stop(): Promise<void>;
  /** The dead letters of this queue, oldest first (at most `limit`, default 100). */
  deadLetters(limit?: number): Promise<DeadLetter<T>[]>;
  /** Puts a dead letter back as a fresh job (attempts 0). False when there is none. */
  retryDeadLetter(id: string): Promise<boolean>;
  stats(): JobStats;
}

/** Longest default backoff, ms. */
export const MAX_BACKOFF_MS = 60_000;

/**
 * Default retry wait after failed attempt `n`: 1 s · 2^(n−1) capped at 60 s, with "equal
 * jitter" (a random point in the upper half), so waits grow and retries spread out.
 */
export function defaultBackoff(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + random() * (base / 2));
}
