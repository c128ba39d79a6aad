import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { jobDoneKey, jobIdempotencyKey, jobKey } from "../kv/keys.ts";
import {
  chooseBackend,
  createJobQueue,
  type DeadLetter,
  type Job,
  type JobBackend,
  type JobQueue,
  type JobQueueOptions,
} from "./jobs.ts";
import { memoryLog, rawRecord, waitFor, writeRaw } from "./jobs_testing.ts";
import { deadline } from "../../tests/_deadline.ts";

const NAME = "t";
const BACKENDS: JobBackend[] = ["kv-queue", "outbox"];

async function withQueue<T>(
  backend: JobBackend,
  options: Partial<JobQueueOptions<T>>,
  fn: (queue: JobQueue<T>, kv: Deno.Kv) => Promise<void>,
): Promise<void> {
  using kv = await Deno.openKv(":memory:");
  const queue = await createJobQueue<T>({
    kv,
    name: NAME,
    backend,
    handler: () => Promise.resolve(),
    log: memoryLog(),
    leaseTtlMs: 300,
    ...options,
  });
  try {
    await fn(queue, kv);
  } finally {
    await deadline(queue.stop(), 10_000, `the ${backend} queue to stop`);
  }
}

for (const backend of BACKENDS) {
  Deno.test(`[jobs] ${backend}: enqueue commits before it resolves; the handler runs once`, async () => {
    const jobs: Job<{ to: string }>[] = [];
    await withQueue<{ to: string }>(backend, {
      handler: (job) => {
        jobs.push(job);
        return Promise.resolve();
      },
    }, async (queue, kv) => {
      const { id, duplicate } = await queue.enqueue({ to: "ada" });
      equal(duplicate, false);
      // Committed before `enqueue` resolved, and nothing runs before start().
      const stored = await kv.get<{ payload: { to: string } }>(jobKey(NAME, id));
      deepEqual(stored.value?.payload, { to: "ada" });
      equal((await kv.get(jobIdempotencyKey(NAME, id))).value, id, "the id is the default key");
      queue.start();
      await waitFor(() => queue.stats().processed === 1, 3_000, "processed");
      equal(jobs.length, 1);
      deepEqual(jobs[0].payload, { to: "ada" });
      equal(jobs[0].id, id);
      equal(jobs[0].attempt, 1);
      equal(jobs[0].idempotencyKey, id);
      equal((await kv.get(jobKey(NAME, id))).value, null, "record deleted");
      equal((await kv.get<{ id: string }>(jobDoneKey(NAME, id))).value?.id, id, "done marker");
      equal(queue.stats().backend, backend);
    });
  });

  Deno.test(`[jobs] ${backend}: a duplicate idempotency key adds nothing`, async () => {
    const ran: string[] = [];
    await withQueue<string>(backend, {
      handler: (job) => {
        ran.push(job.payload);
        return Promise.resolve();
      },
    }, async (queue) => {
      const first = await queue.enqueue("a", { idempotencyKey: "order-1" });
      const second = await queue.enqueue("b", { idempotencyKey: "order-1" });
      deepEqual(second, { id: first.id, duplicate: true });
      queue.start();
      await waitFor(() => queue.stats().processed === 1, 3_000, "the first job");
      const after = await queue.enqueue("c", { idempotencyKey: "order-1" });
      deepEqual(after, { id: first.id, duplicate: true }, "still a duplicate once done");
      // A job with another key runs next: had "c" been queued, it would have run by then.
      await queue.enqueue("d", { idempotencyKey: "order-2" });
      await waitFor(() => queue.stats().processed === 2, 3_000, "the job of order-2");
      deepEqual(ran, ["a", "d"]);
      equal(queue.stats().duplicateEnqueues, 2);
    });
  });

  Deno.test(`[jobs] ${backend}: a redelivery after success does not run the handler`, async () => {
    let runs = 0;
    await withQueue<string>(backend, {
      handler: () => {
        runs++;
        return Promise.resolve();
      },
    }, async (queue, kv) => {
      queue.start();
      await queue.enqueue("x", { idempotencyKey: "k" });
      await waitFor(() => queue.stats().processed === 1, 3_000, "the job to run");
      // The same job delivered again underneath, as at-least-once delivery may.
      const again = rawRecord("x", "k");
      await writeRaw(kv, NAME, again, backend);
      await waitFor(() => queue.stats().duplicatesSuppressed === 1, 3_000, "suppressed");
      equal(runs, 1);
      equal((await kv.get(jobKey(NAME, again.id))).value, null);
    });
  });

  Deno.test(`[jobs] ${backend}: failing twice then succeeding runs 3 times, waiting longer each time`, async () => {
    const times: number[] = [];
    const attempts: number[] = [];
    await withQueue<string>(backend, {
      backoff: (n) => 150 * 2 ** (n - 1),
      handler: (job) => {
        times.push(performance.now());
        attempts.push(job.attempt);
        return job.attempt < 3
          ? Promise.reject(new Error(`boom ${job.attempt}`))
          : Promise.resolve();
      },
    }, async (queue) => {
      queue.start();
      await queue.enqueue("x");
      await waitFor(() => queue.stats().processed === 1, 3_000, "processed");
      deepEqual(attempts, [1, 2, 3]);
      const [g1, g2] = [times[1] - times[0], times[2] - times[1]];
      ok(g1 >= 145 && g2 >= 295, `gaps ${g1}, ${g2}`);
      ok(g2 > g1, `growing: ${g1} < ${g2}`);
      const s = queue.stats();
      equal(s.retried, 2);
      equal(s.deadLettered, 0);
    });
  });

  Deno.test(`[jobs] ${backend}: always failing → a dead letter after maxAttempts`, async () => {
    let fail = true;
    let runs = 0;
    const dead: DeadLetter<{ n: number }>[] = [];
    await withQueue<{ n: number }>(backend, {
      maxAttempts: 3,
      backoff: () => 10,
      onDeadLetter: (d) => dead.push(d),
      handler: (job) => {
        runs++;
        return fail ? Promise.reject(new Error(`boom ${job.attempt}`)) : Promise.resolve();
      },
    }, async (queue, kv) => {
      queue.start();
      const { id } = await queue.enqueue({ n: 7 });
      await waitFor(() => queue.stats().deadLettered === 1, 3_000, "dead letter");
      equal(runs, 3);
      const letters = await queue.deadLetters();
      equal(letters.length, 1);
      equal(letters[0].id, id);
      equal(letters[0].attempts, 3);
      equal(letters[0].lastError, "boom 3");
      deepEqual(letters[0].payload, { n: 7 });
      ok(letters[0].failedAt >= letters[0].firstAttemptAt);
      deepEqual(dead, letters);
      equal((await kv.get(jobKey(NAME, id))).value, null, "record removed");
      // An operator puts it back once the cause is fixed.
      fail = false;
      equal(await queue.retryDeadLetter(id), true);
      await waitFor(() => queue.stats().processed === 1, 3_000, "retried dead letter");
      equal((await queue.deadLetters()).length, 0);
      equal(await queue.retryDeadLetter(id), false);
    });
  });

  Deno.test(`[jobs] ${backend}: delayMs holds the job back`, async () => {
    let ranAt = 0;
    await withQueue<string>(backend, {
      handler: () => {
        ranAt = performance.now();
        return Promise.resolve();
      },
    }, async (queue) => {
      queue.start();
      const t0 = performance.now();
      await queue.enqueue("later", { delayMs: 200 });
      await waitFor(() => queue.stats().processed === 1, 3_000, "the delayed job");
      ok(ranAt - t0 >= 195, `ran after ${ranAt - t0} ms`);
    });
  });

  Deno.test(`[jobs] ${backend}: stop() waits for running handlers; an aborted signal stops`, async () => {
    let release = () => {};
    let finished = false;
    await withQueue<string>(backend, {
      handler: async () => {
        await new Promise<void>((resolve) => release = resolve);
        finished = true;
      },
    }, async (queue) => {
      const controller = new AbortController();
      queue.start(controller.signal);
      await queue.enqueue("x");
      await waitFor(() => queue.stats().running === 1, 3_000, "the handler to start");
      const stopped = queue.stop();
      setTimeout(() => release(), 30); // stop() must wait for this handler
      await deadline(stopped, 10_000, "stop() to return once the handler finished");
      equal(finished, true);
      equal(queue.stats().processed, 1);
      controller.abort(); // after stop: harmless
      const again = new AbortController();
      again.abort();
      queue.start(again.signal); // already aborted: does not start
      await queue.enqueue("y");
      await new Promise((resolve) => setTimeout(resolve, 50));
      equal(queue.stats().processed, 1);
    });
  });
}

Deno.test("[jobs] auto picks kv-queue for local KV and outbox for remote", async () => {
  equal(chooseBackend({}), "kv-queue");
  equal(chooseBackend({ remote: false }), "kv-queue");
  equal(chooseBackend({ remote: true }), "outbox");
  equal(chooseBackend({ backend: "outbox" }), "outbox");
  equal(chooseBackend({ backend: "kv-queue", remote: true }), "kv-queue");
  using kv = await Deno.openKv(":memory:");
  const handler = () => Promise.resolve();
  equal((await createJobQueue({ kv, name: "a", handler, remote: true })).backend, "outbox");
  await rejects(createJobQueue({ kv, name: "", handler }), /name must be a non-empty string/);
  await rejects(createJobQueue({ kv, name: "a", handler, maxAttempts: 0 }), /maxAttempts/);
});
