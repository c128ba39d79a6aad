/**
 * The kv-queue backend: every job has a doorbell message in KV's own queue
 * (`kv.enqueue` in the job's commit); messages arrive through the handle's shared
 * {@linkcode queueDispatcher}. Retries are new messages with `delay` (we count attempts
 * in the record, not KV's retry schedule). A sweep on start and every
 * `sweepIntervalMs` sends a new doorbell for jobs whose worker died mid-job (claim expired;
 * KV itself redelivers those only after ~60 s) and for jobs overdue by `sweepGraceMs`
 * (a message lost).
 */
import { jobDuePrefix, jobKey, jobUndeliveredPrefix } from "../kv/keys.ts";
import { queueDispatcher } from "./jobs_dispatcher.ts";
import {
  addMessage,
  isJobMessage,
  type JobMessage,
  type JobRecord,
  messageOptions,
  moveDue,
} from "./jobs_store.ts";
import type { JobRunner } from "./jobs_runner.ts";
import type { JobLog } from "./jobs_types.ts";

/** Everything {@linkcode KvQueueWorker} needs. */
export interface KvQueueConfig<T> {
  kv: Deno.Kv;
  queue: string;
  runner: JobRunner<T>;
  now: () => number;
  concurrency: number;
  sweepGraceMs: number;
  sweepIntervalMs: number;
  deferMs: number;
  log: JobLog;
}

/** Jobs looked at per sweep (the rest wait for the next one). */
const SWEEP_LIMIT = 500;

/** Processes one queue's messages in this isolate, at most `concurrency` at once. */
export class KvQueueWorker<T> {
  swept = 0;
  deferred = 0;
  #config: KvQueueConfig<T>;
  #active = 0;
  #waiting: (() => void)[] = [];
  #inflight = new Set<Promise<unknown>>();
  #unregister: (() => void) | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #sweeping: Promise<void> | null = null;
  #deferWindow = { start: 0, count: 0 };

  constructor(config: KvQueueConfig<T>) {
    this.#config = config;
  }

  /** Messages held waiting for a free slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Messages waiting for a free slot stay below this; more are sent back with a delay. */
  get maxWaiting(): number {
    return this.#config.concurrency * 4;
  }

  start(): void {
    if (this.#unregister) return;
    this.#unregister = queueDispatcher(this.#config.kv).register(
      this.#config.queue,
      (message) => this.#track(this.#route(message)),
    );
    this.#kickSweep();
    this.#timer = setInterval(() => this.#kickSweep(), this.#config.sweepIntervalMs);
  }

  async stop(): Promise<void> {
    this.#unregister?.();
    this.#unregister = null;
    clearInterval(this.#timer);
    await this.#sweeping;
    await Promise.allSettled([...this.#inflight]);
  }

  #track<R>(promise: Promise<R>): Promise<R> {
    this.#inflight.add(promise);
    const forget = () => this.#inflight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  async #route(message: unknown): Promise<void> {
    if (!isJobMessage(message)) return;
    if (this.#active >= this.#config.concurrency) {
      if (this.#waiting.length >= this.maxWaiting) return await this.#defer(message);
      await new Promise<void>((resolve) => this.#waiting.push(resolve)); // the slot is handed over
    } else {
      this.#active++;
    }
    try {
      await this.#config.runner.process(message.id, { kind: "message", gen: message.gen });
    } catch (err) {
      this.#config.log.error("Cannot process job message; KV will redeliver it", {
        queue: this.#config.queue,
        id: message.id,
        err,
      });
      throw err;
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
    }
  }

  /**
   * Deno 2.9 hands an isolate every ready message at once (no dispatch limit), so a
   * saturated isolate sends the surplus back to KV, later the deeper the burst.
   */
  async #defer(message: JobMessage): Promise<void> {
    const t = performance.now();
    if (t - this.#deferWindow.start > 1_000) this.#deferWindow = { start: t, count: 0 };
    const depth = this.#deferWindow.count++ / this.#config.concurrency;
    const { deferMs } = this.#config;
    const delay = Math.min(30_000, deferMs * (1 + depth)) + Math.random() * deferMs;
    await this.#config.kv.enqueue(message, messageOptions(this.#config.queue, message.id, delay));
    this.deferred++;
  }

  #kickSweep(): void {
    if (this.#sweeping) return;
    this.#sweeping = this.sweep()
      .then(() => {})
      .catch((err) => this.#config.log.warn("Job sweep failed", { queue: this.#config.queue, err }))
      .finally(() => this.#sweeping = null);
  }

  /**
   * Sends a new doorbell for every due job that is orphaned (its claim expired: the worker
   * died) or overdue by `sweepGraceMs` (its message may be lost). Returns how many.
   */
  async sweep(): Promise<number> {
    const { kv, queue, now, log } = this.#config;
    for await (const entry of kv.list({ prefix: jobUndeliveredPrefix(queue) }, { limit: 100 })) {
      log.warn("KV gave up delivering a job message; the sweep sends it again", {
        queue,
        id: entry.key[2],
      });
      await kv.atomic().check(entry).delete(entry.key).commit();
    }
    const due = kv.list<number>(
      { prefix: jobDuePrefix(queue), end: [...jobDuePrefix(queue), now() + 1] },
      { limit: SWEEP_LIMIT, batchSize: 100 },
    );
    let sent = 0;
    for await (const index of due) {
      const id = String(index.key[3]);
      const entry = await kv.get<JobRecord<T>>(jobKey(queue, id));
      const record = entry.value;
      if (!record || record.runAt !== index.key[2]) {
        await kv.atomic().check(entry).delete(index.key).commit(); // stale index entry
        continue;
      }
      const t = now();
      const orphaned = record.claim !== null && record.claim.until <= t;
      const overdue = record.claim === null && record.runAt <= t - this.#config.sweepGraceMs;
      if (!orphaned && !overdue) continue;
      const next: JobRecord<T> = { ...record, runAt: t };
      const op = kv.atomic().check(entry).set(jobKey(queue, id), next);
      if ((await addMessage(moveDue(op, queue, record, next), queue, next, 0).commit()).ok) {
        sent++;
      }
    }
    this.swept += sent;
    return sent;
  }
}
