import { equal, ok } from "node:assert/strict";
import { openKv } from "../kv/open.ts";
import { leaseHolder } from "../kv/lease.ts";
import { createJobQueue, type Job, type JobQueue } from "./jobs.ts";
import { outboxLeaseName } from "./jobs_outbox.ts";
import { memoryLog, tempKvPath, waitFor } from "./jobs_testing.ts";

Deno.test("[jobs] outbox: two instances on one KV file run each job once, never concurrently", async () => {
  const tmp = await tempKvPath();
  try {
    using kvA = await openKv({ path: tmp.path });
    using kvB = await openKv({ path: tmp.path });
    const runs = new Map<number, string[]>();
    const running = new Set<number>();
    let overlaps = 0;
    const handlerOf = (holder: string) => async (job: Job<number>) => {
      if (running.has(job.payload)) overlaps++;
      running.add(job.payload);
      runs.set(job.payload, [...(runs.get(job.payload) ?? []), holder]);
      await new Promise((resolve) => setTimeout(resolve, 3));
      running.delete(job.payload);
    };
    const make = (kv: Deno.Kv, holder: string): Promise<JobQueue<number>> =>
      createJobQueue<number>({
        kv,
        name: "mail",
        backend: "outbox",
        holder,
        leaseTtlMs: 400,
        concurrency: 4,
        log: memoryLog(),
        handler: handlerOf(holder),
      });
    const a = await make(kvA, "A");
    const b = await make(kvB, "B");
    a.start();
    await waitFor(
      async () => await leaseHolder(kvA, outboxLeaseName("mail")) === "A",
      3_000,
      "A to hold the lease",
    );
    b.start();
    for (let i = 0; i < 15; i++) await (i % 2 ? a : b).enqueue(i);
    await waitFor(() => a.stats().processed === 15, 3_000, "A ran the first 15");
    equal(b.stats().leader, false, "one leader");
    equal(b.stats().processed, 0, "the follower runs nothing");
    const stoppedAt = performance.now();
    await a.stop(); // releases the lease: B takes over via its watch on the lease key
    await waitFor(() => b.stats().leader === true, 3_000, "B took over");
    const takeoverMs = performance.now() - stoppedAt;
    for (let i = 15; i < 30; i++) await (i % 2 ? a : b).enqueue(i); // A's handle still enqueues
    await waitFor(() => b.stats().processed === 15, 3_000, "B ran the other 15");
    equal(a.stats().processed, 15);
    equal(runs.size, 30);
    for (const [n, holders] of runs) equal(holders.length, 1, `job ${n} ran ${holders}`);
    equal(overlaps, 0);
    ok(takeoverMs < 300, `takeover after release took ${takeoverMs.toFixed(0)} ms`);
    await b.stop();
  } finally {
    await tmp.remove();
  }
});

Deno.test("[jobs] outbox: an idle leader wakes on enqueue (watch) and at runAt (timer)", async () => {
  using kv = await Deno.openKv(":memory:");
  const ranAt: Record<string, number> = {};
  const queue = await createJobQueue<string>({
    kv,
    name: "idle",
    backend: "outbox",
    leaseTtlMs: 60_000, // lease renewals alone would wake the loop only every 20 s
    log: memoryLog(),
    handler: (job) => {
      ranAt[job.payload] = performance.now();
      return Promise.resolve();
    },
  });
  queue.start();
  await waitFor(() => queue.stats().leader === true, 3_000, "the queue to lead");
  await new Promise((resolve) => setTimeout(resolve, 50)); // idle
  const t0 = performance.now();
  await queue.enqueue("now");
  await queue.enqueue("later", { delayMs: 150 });
  await waitFor(() => queue.stats().processed === 2, 2_000, "both ran");
  ok(ranAt.now - t0 < 100, `woken by the pointer after ${ranAt.now - t0} ms`);
  ok(ranAt.later - t0 >= 145 && ranAt.later - t0 < 400, `timer: ${ranAt.later - t0} ms`);
  await queue.stop();
  equal(queue.stats().leader, false);
  equal(await leaseHolder(kv, outboxLeaseName("idle")), null, "released on stop");
});
