import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { jobKey, jobUndeliveredKey } from "../kv/keys.ts";
import { createJobQueue, type Job, queueDispatcher } from "./jobs.ts";
import { memoryLog, rawRecord, waitFor, writeRaw } from "./jobs_testing.ts";

Deno.test("[jobs] kv-queue: queues sharing one KV handle get only their own jobs", async () => {
  using kv = await Deno.openKv(":memory:");
  const got: Record<string, string[]> = { a: [], b: [] };
  const make = (name: "a" | "b") =>
    createJobQueue<string>({
      kv,
      name,
      backend: "kv-queue",
      log: memoryLog(),
      handler: (job) => {
        got[name].push(job.payload);
        return Promise.resolve();
      },
    });
  const [a, b] = await Promise.all([make("a"), make("b")]);
  a.start();
  b.start();
  for (let i = 0; i < 5; i++) {
    await a.enqueue(`a${i}`);
    await b.enqueue(`b${i}`);
  }
  await waitFor(() => got.a.length === 5 && got.b.length === 5, 3_000, "five jobs in each queue");
  deepEqual(got.a.toSorted(), ["a0", "a1", "a2", "a3", "a4"]);
  deepEqual(got.b.toSorted(), ["b0", "b1", "b2", "b3", "b4"]);
  const twin = await createJobQueue<string>({
    kv,
    name: "a",
    backend: "kv-queue",
    handler: () => Promise.resolve(),
  });
  throws(() => twin.start(), /already registered/);
  await Promise.all([a.stop(), b.stop()]);
});

Deno.test("[jobs] kv-queue: a saturated isolate holds a bounded batch and defers the rest", async () => {
  using kv = await Deno.openKv(":memory:");
  let running = 0;
  let maxRunning = 0;
  let maxWaiting = 0;
  const runs = new Map<number, number>();
  const queue = await createJobQueue<number>({
    kv,
    name: "busy",
    backend: "kv-queue",
    concurrency: 2,
    deferMs: 10,
    log: memoryLog(),
    handler: async (job: Job<number>) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      maxWaiting = Math.max(maxWaiting, queue.stats().waiting);
      runs.set(job.payload, (runs.get(job.payload) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
    },
  });
  for (let i = 0; i < 40; i++) await queue.enqueue(i);
  queue.start();
  await waitFor(() => queue.stats().processed === 40, 5_000, "40 processed");
  equal(maxRunning, 2);
  equal(runs.size, 40);
  ok([...runs.values()].every((n) => n === 1));
  // 40 messages arrive at once: 2 run, at most 8 wait in memory, the rest go back to KV.
  ok(maxWaiting > 0 && maxWaiting <= 8, `waiting ${maxWaiting}`);
  ok(queue.stats().deferred >= 10, `deferred ${queue.stats().deferred}`);
  await queue.stop();
});

Deno.test("[jobs] kv-queue: the sweep recovers a job whose message was lost", async () => {
  using kv = await Deno.openKv(":memory:");
  const log = memoryLog();
  const ran: string[] = [];
  const queue = await createJobQueue<string>({
    kv,
    name: "lost",
    backend: "kv-queue",
    sweepGraceMs: 1_000,
    log,
    handler: (job) => {
      ran.push(job.payload);
      return Promise.resolve();
    },
  });
  const lost = rawRecord("lost", "k-lost", Date.now() - 5_000); // committed, never delivered
  await writeRaw(kv, "lost", lost, false);
  const fresh = rawRecord("fresh", "k-fresh"); // not overdue: the sweep leaves it alone
  await writeRaw(kv, "lost", fresh, false);
  await kv.set(jobUndeliveredKey("lost", "gone-1"), { queue: "lost", id: "gone-1", gen: 0 });
  queue.start();
  await waitFor(() => ran.length === 1, 3_000, "swept job ran");
  deepEqual(ran, ["lost"]);
  equal(queue.stats().swept, 1);
  ok((await kv.get(jobKey("lost", fresh.id))).versionstamp, "the fresh job still waits");
  equal((await kv.get(jobUndeliveredKey("lost", "gone-1"))).versionstamp, null, "cleared");
  ok(log.lines.some((l) => l.includes("KV gave up delivering")));
  await queue.stop();
});

Deno.test("[jobs] kv-queue: a message for a queue nobody started here is dropped after a wait", async () => {
  using kv = await Deno.openKv(":memory:");
  const dispatcher = queueDispatcher(kv);
  dispatcher.unknownQueueWaitMs = 30;
  const seen: unknown[] = [];
  const undo = dispatcher.register("known", (m) => {
    seen.push(m);
    return Promise.resolve();
  });
  await kv.enqueue({ queue: "unknown", id: "x", gen: 0 });
  await kv.enqueue({ queue: "late", id: "y", gen: 0 });
  await kv.enqueue("not routed at all");
  await new Promise((resolve) => setTimeout(resolve, 10));
  dispatcher.register("late", (m) => {
    seen.push(m);
    return Promise.resolve();
  });
  await waitFor(
    () => dispatcher.dropped === 1 && seen.length === 1,
    3_000,
    "one message dropped and one routed late",
  );
  deepEqual(seen, [{ queue: "late", id: "y", gen: 0 }], "a route registered while waiting gets it");
  undo();
  equal(queueDispatcher(kv), dispatcher, "one dispatcher per handle");
});
