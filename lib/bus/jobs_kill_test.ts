import { deepEqual, equal } from "node:assert/strict";
import { jobDoneKey, jobKey } from "../kv/keys.ts";
import { openKv } from "../kv/open.ts";
import { createJobQueue, type Job, type JobBackend } from "./jobs.ts";
import { memoryLog, tempKvPath, waitFor } from "./jobs_testing.ts";
import { spawnChild } from "../../tests/_deadline.ts";

const FIXTURE = new URL("./testdata/jobs_hang_fixture.ts", import.meta.url).pathname;

/** Starts the fixture and resolves with the id of its job once its handler hangs in it. */
async function startHangingChild(path: string, backend: JobBackend) {
  const child = spawnChild(
    Deno.execPath(),
    ["run", "-A", "--unstable-kv", FIXTURE, path, backend],
    {
      name: `the jobs fixture (${backend})`,
    },
  );
  try {
    const [line] = await child.waitForOutput(
      /^\{"started".*\}$/m,
      60_000,
      "the fixture's handler to start",
    );
    return { child, started: JSON.parse(line) as { started: string; attempt: number } };
  } catch (err) {
    await child.kill();
    throw err;
  }
}

for (const backend of ["kv-queue", "outbox"] as const) {
  Deno.test(`[jobs] ${backend}: a job whose process is killed mid-handler finishes exactly once`, async () => {
    const tmp = await tempKvPath();
    try {
      const { child, started } = await startHangingChild(tmp.path, backend);
      equal(started.attempt, 1);
      equal((await child.kill()).signal, "SIGKILL");
      using kv = await openKv({ path: tmp.path });
      const runs: Job<{ n: number }>[] = [];
      const queue = await createJobQueue<{ n: number }>({
        kv,
        name: "kill",
        backend,
        holder: "parent",
        claimTtlMs: 300,
        leaseTtlMs: 300,
        sweepIntervalMs: 100,
        log: memoryLog(),
        handler: (job) => {
          runs.push(job);
          return Promise.resolve();
        },
      });
      queue.start();
      await waitFor(() => queue.stats().processed === 1, 5_000, "the killed job finished");
      await new Promise((resolve) => setTimeout(resolve, 400)); // more sweeps / lease rounds
      await queue.stop();
      equal(runs.length, 1, "exactly once");
      equal(runs[0].id, started.started);
      equal(runs[0].attempt, 2, "the killed attempt counts");
      deepEqual(runs[0].payload, { n: 42 });
      equal(runs[0].idempotencyKey, "kill-1");
      equal((await kv.get(jobKey("kill", started.started))).value, null);
      equal(
        (await kv.get<{ id: string }>(jobDoneKey("kill", "kill-1"))).value?.id,
        started.started,
      );
      deepEqual(await queue.deadLetters(), []);
    } finally {
      await tmp.remove();
    }
  });
}
