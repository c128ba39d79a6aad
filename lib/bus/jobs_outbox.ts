/**
 * The outbox backend, for KV without queues (KV Connect, Deno Deploy): jobs are records
 * indexed by `runAt`; one isolate at a time holds the lease `jobs:<queue>` and runs due
 * jobs, woken by `kv.watch` on `["job_ptr", queue]` (bumped by every enqueue) and on the
 * lease key, and by a timer for the earliest `runAt`. Every job is still claimed with an
 * atomic check, so an old leader finishing a job never overlaps the new one.
 */
import { jobDuePrefix, jobPointerKey, leaseKey } from "../kv/keys.ts";
import { releaseLease, tryAcquireLease } from "../kv/lease.ts";
import type { JobRunner } from "./jobs_runner.ts";
import type { JobLog } from "./jobs_types.ts";

/** Everything {@linkcode OutboxWorker} needs. */
export interface OutboxConfig<T> {
  kv: Deno.Kv;
  queue: string;
  runner: JobRunner<T>;
  holder: string;
  now: () => number;
  concurrency: number;
  leaseTtlMs: number;
  log: JobLog;
}

/** How long a job whose processing step threw (a KV error) is left alone, ms. */
const ERROR_PAUSE_MS = 1_000;

/** The lease name of a queue's outbox. */
export function outboxLeaseName(queue: string): string {
  return `jobs:${queue}`;
}

/** Runs one queue's due jobs while this isolate holds the queue's lease. */
export class OutboxWorker<T> {
  leader = false;
  #config: OutboxConfig<T>;
  #stopped = true;
  #loop: Promise<void> | null = null;
  #watch: ReadableStreamDefaultReader<unknown> | null = null;
  #inflight = new Map<string, Promise<unknown>>();
  #wake: (() => void) | null = null;
  #poked = false;

  constructor(config: OutboxConfig<T>) {
    this.#config = config;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    const { kv, queue } = this.#config;
    const reader = kv.watch([jobPointerKey(queue), leaseKey(outboxLeaseName(queue))]).getReader();
    this.#watch = reader;
    (async () => {
      while (!(await reader.read()).done) this.#poke();
    })().catch((err) => {
      if (!this.#stopped) this.#config.log.warn("Job outbox watch ended", { queue, err });
    });
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#poke();
    await this.#watch?.cancel().catch(() => {});
    await this.#loop;
    await Promise.allSettled([...this.#inflight.values()]);
    if (this.leader) {
      this.leader = false;
      const { kv, queue, holder } = this.#config;
      await releaseLease(kv, outboxLeaseName(queue), holder).catch(() => {});
    }
  }

  #poke(): void {
    if (this.#wake) this.#wake();
    else this.#poked = true;
  }

  #sleep(ms: number): Promise<void> {
    if (this.#poked || this.#stopped) {
      this.#poked = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(wake, Math.max(0, ms));
      function wake() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = null;
        wake();
      };
    }).finally(() => this.#wake = null);
  }

  async #run(): Promise<void> {
    const { kv, queue, holder, now, leaseTtlMs, log } = this.#config;
    const renewEvery = leaseTtlMs / 3;
    let renewedAt = -Infinity;
    while (!this.#stopped) {
      let waitMs = this.leader ? renewEvery : leaseTtlMs / 2;
      try {
        const t = now();
        if (!this.leader || t - renewedAt >= renewEvery) {
          const name = outboxLeaseName(queue);
          this.leader = await tryAcquireLease(kv, name, { holder, ttlMs: leaseTtlMs, now });
          renewedAt = t;
        }
        if (this.leader && !this.#stopped) {
          const next = await this.#fill();
          if (next !== null) waitMs = Math.min(waitMs, next);
        }
      } catch (err) {
        log.warn("Job outbox step failed", { queue, err });
        waitMs = Math.min(1_000, renewEvery);
      }
      await this.#sleep(waitMs);
    }
  }

  /**
   * Starts due jobs in the free slots. Returns ms until the next job falls due, 0 to
   * look again at once, or null when only a wake-up (enqueue, a job finishing) matters.
   */
  async #fill(): Promise<number | null> {
    const { kv, queue, runner, now, concurrency } = this.#config;
    const free = concurrency - this.#inflight.size;
    if (free <= 0) return null;
    const t = now();
    let started = 0;
    const entries = kv.list<number>({ prefix: jobDuePrefix(queue) }, {
      limit: free + this.#inflight.size,
    });
    for await (const entry of entries) {
      const runAt = Number(entry.key[2]);
      const id = String(entry.key[3]);
      if (runAt > t) return runAt - t;
      if (this.#inflight.has(id)) continue;
      const job = runner.process(id, { kind: "due", runAt })
        .catch(async (err) => {
          this.#config.log.error("Cannot process job", { queue, id, err });
          await new Promise((resolve) => setTimeout(resolve, ERROR_PAUSE_MS)); // no hot loop on KV errors
        })
        .finally(() => {
          this.#inflight.delete(id);
          this.#poke();
        });
      this.#inflight.set(id, job);
      if (++started === free) return null;
    }
    return null;
  }
}
