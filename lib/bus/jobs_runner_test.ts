import { deepEqual, equal, ok } from "node:assert/strict";
import { jobDeadKey, jobDoneKey, jobDueKey, jobKey } from "../kv/keys.ts";
import { retryWhileLocked } from "../kv/open.ts";
import { insertJob, type JobRecord } from "./jobs_store.ts";
import { JobRunner, type RunnerConfig } from "./jobs_runner.ts";
import { defaultBackoff, type Job, MAX_BACKOFF_MS } from "./jobs_types.ts";
import { memoryLog, rawRecord, tempKvPath, writeRaw } from "./jobs_testing.ts";

const Q = "q";

function runner<T>(kv: Deno.Kv, overrides: Partial<RunnerConfig<T>> = {}): JobRunner<T> {
  return new JobRunner<T>({
    kv,
    queue: Q,
    handler: () => Promise.resolve(),
    holder: "h1",
    now: Date.now,
    maxAttempts: 3,
    backoff: () => 10,
    claimTtlMs: 1_000,
    doneTtlMs: 60_000,
    log: memoryLog(),
    schedule: (op) => op,
    ...overrides,
  });
}

async function enqueueRaw<T>(kv: Deno.Kv, payload: T, key: string, now = Date.now()) {
  const record = rawRecord(payload, key, now);
  const result = await insertJob(kv, Q, record, {
    idempotencyTtlMs: 60_000,
    message: false,
    bumpPointer: false,
  });
  equal(result.duplicate, false);
  return record;
}

Deno.test("[jobs] runner: a second processing step of a finished job does nothing", async () => {
  using kv = await Deno.openKv(":memory:");
  const seen: Job<{ n: number }>[] = [];
  const r = runner<{ n: number }>(kv, {
    handler: (job) => {
      seen.push(job);
      return Promise.resolve();
    },
  });
  const record = await enqueueRaw(kv, { n: 1 }, "k1");
  equal(await r.process(record.id, { kind: "message", gen: 0 }), "done");
  equal(await r.process(record.id, { kind: "message", gen: 0 }), "gone");
  equal(seen.length, 1);
  deepEqual(seen[0], {
    id: record.id,
    idempotencyKey: "k1",
    payload: { n: 1 },
    attempt: 1,
    enqueuedAt: record.enqueuedAt,
  });
  equal((await kv.get(jobKey(Q, record.id))).value, null, "record deleted");
  equal((await kv.get(jobDueKey(Q, record.runAt, record.id))).value, null, "due entry deleted");
  equal((await kv.get<{ id: string }>(jobDoneKey(Q, "k1"))).value?.id, record.id, "done marker");
});

Deno.test("[jobs] runner: a redelivered job whose done marker exists skips the handler", async () => {
  using kv = await Deno.openKv(":memory:");
  let runs = 0;
  const r = runner(kv, {
    handler: () => {
      runs++;
      return Promise.resolve();
    },
  });
  const first = await enqueueRaw(kv, "x", "k1");
  equal(await r.process(first.id, { kind: "message", gen: 0 }), "done");
  // The same job again underneath (e.g. its index expired and it was enqueued twice).
  const again = rawRecord("x", "k1");
  await writeRaw(kv, Q, again, false);
  equal(await r.process(again.id, { kind: "due", runAt: again.runAt }), "duplicate");
  equal(runs, 1);
  equal(r.counters.duplicatesSuppressed, 1);
  equal((await kv.get(jobKey(Q, again.id))).value, null, "the duplicate record is removed");
});

Deno.test("[jobs] runner: racing workers on two handles run each job once", async () => {
  const tmp = await tempKvPath();
  try {
    using a = retryWhileLocked(await Deno.openKv(tmp.path));
    using b = retryWhileLocked(await Deno.openKv(tmp.path));
    const runs = new Map<string, number>();
    let concurrent = 0;
    let maxConcurrentPerJob = 0;
    const running = new Set<string>();
    const handler = async (job: Job<number>) => {
      if (running.has(job.id)) maxConcurrentPerJob = 2;
      running.add(job.id);
      concurrent++;
      runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, 2));
      running.delete(job.id);
      concurrent--;
    };
    const ra = runner<number>(a, { handler, holder: "a" });
    const rb = runner<number>(b, { handler, holder: "b" });
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await enqueueRaw(a, i, `k${i}`)).id);
    const outcomes = await Promise.all(
      ids.flatMap((id) => [
        ra.process(id, { kind: "message", gen: 0 }),
        rb.process(id, { kind: "message", gen: 0 }),
        ra.process(id, { kind: "message", gen: 0 }),
      ]),
    );
    equal(outcomes.filter((o) => o === "done").length, 10, outcomes.join(","));
    deepEqual([...runs.values()], Array(10).fill(1));
    equal(maxConcurrentPerJob, 0, "never twice at once");
    equal(concurrent, 0);
  } finally {
    await tmp.remove();
  }
});

Deno.test("[jobs] runner: the claim is renewed while a slow handler runs", async () => {
  using kv = await Deno.openKv(":memory:");
  let release = () => {};
  const slow = runner(kv, {
    claimTtlMs: 60,
    handler: () => new Promise<void>((resolve) => release = resolve),
  });
  let otherRuns = 0;
  const other = runner(kv, {
    holder: "h2",
    claimTtlMs: 60,
    handler: () => {
      otherRuns++;
      return Promise.resolve();
    },
  });
  const record = await enqueueRaw(kv, "x", "k1");
  const first = slow.process(record.id, { kind: "message", gen: 0 });
  for (let i = 0; i < 6; i++) {
    await new Promise((resolve) => setTimeout(resolve, 40)); // 240 ms: 4 × the claim TTL
    equal(await other.process(record.id, { kind: "message", gen: 1 }), "busy");
  }
  release();
  equal(await first, "done");
  equal(otherRuns, 0);
});

Deno.test("[jobs] runner: a job whose worker died runs again once its claim expires", async () => {
  using kv = await Deno.openKv(":memory:");
  let t = 1_000_000;
  const now = () => t;
  const attempts: number[] = [];
  const r = runner(kv, {
    now,
    handler: (job) => {
      attempts.push(job.attempt);
      return Promise.resolve();
    },
  });
  // As a worker killed mid-handler leaves it: attempt 1 claimed until t + 1000.
  const record: JobRecord<string> = {
    ...rawRecord("x", "k1", t),
    attempts: 1,
    claim: { holder: "dead", until: t + 1_000 },
    runAt: t + 1_000,
    firstAttemptAt: t,
  };
  await writeRaw(kv, Q, record, false);
  equal(await r.process(record.id, { kind: "due", runAt: record.runAt }), "busy");
  equal(await r.process(record.id, { kind: "message", gen: 0 }), "busy");
  t += 1_001;
  equal(await r.process(record.id, { kind: "message", gen: 0 }), "done", "orphaned: any message");
  deepEqual(attempts, [2]);
});

Deno.test("[jobs] runner: a worker dying in the last attempt dead-letters the job", async () => {
  using kv = await Deno.openKv(":memory:");
  let t = 5_000;
  let runs = 0;
  const dead: string[] = [];
  const r = runner(kv, {
    now: () => t,
    handler: () => {
      runs++;
      return Promise.resolve();
    },
    onDeadLetter: (d) => dead.push(d.lastError),
  });
  const record: JobRecord<string> = {
    ...rawRecord("x", "k1", t),
    attempts: 3,
    claim: { holder: "dead", until: t + 10 },
    runAt: t + 10,
    lastError: "boom",
    firstAttemptAt: t - 100,
  };
  await writeRaw(kv, Q, record, false);
  t += 11;
  equal(await r.process(record.id, { kind: "due", runAt: record.runAt }), "dead");
  equal(runs, 0);
  equal(dead.length, 1);
  ok(/stopped during attempt 3.*boom/.test(dead[0]), dead[0]);
  equal((await kv.get(jobDeadKey(Q, record.id))).versionstamp !== null, true);
  equal((await kv.get(jobKey(Q, record.id))).value, null);
});

Deno.test("[jobs] runner: stale messages and stale due entries are dropped", async () => {
  using kv = await Deno.openKv(":memory:");
  let runs = 0;
  const r = runner(kv, {
    handler: () => {
      runs++;
      return Promise.reject(new Error("nope"));
    },
  });
  const record = await enqueueRaw(kv, "x", "k1");
  equal(await r.process(record.id, { kind: "message", gen: 0 }), "retry");
  equal(await r.process(record.id, { kind: "message", gen: 0 }), "stale", "attempt 1's message");
  equal(await r.process(record.id, { kind: "due", runAt: record.runAt }), "stale", "old due entry");
  equal(runs, 1);
  const stored = (await kv.get<JobRecord<string>>(jobKey(Q, record.id))).value!;
  equal(stored.attempts, 1);
  equal(stored.lastError, "nope");
  equal(stored.claim, null);
  ok((await kv.get(jobDueKey(Q, stored.runAt, record.id))).versionstamp, "due at the retry time");
});

Deno.test("[jobs] defaultBackoff: 1 s · 2^(n−1) with jitter in the upper half, capped at 60 s", () => {
  equal(defaultBackoff(1, () => 0), 500);
  equal(defaultBackoff(1, () => 1), 1_000);
  equal(defaultBackoff(3, () => 1), 4_000);
  equal(defaultBackoff(3, () => 0), 2_000);
  equal(defaultBackoff(20, () => 1), MAX_BACKOFF_MS);
  equal(defaultBackoff(20, () => 0), MAX_BACKOFF_MS / 2);
  for (let n = 1; n < 10; n++) {
    const d = defaultBackoff(n);
    ok(d >= Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** (n - 1)) / 2 && d <= MAX_BACKOFF_MS);
  }
});
