/**
 * Child process of jobs_kill_test.ts: enqueues one job on the KV file `Deno.args[0]` with
 * backend `Deno.args[1]`, whose handler announces itself on stdout and then hangs until
 * the test kills this process with SIGKILL.
 */
import { openKv } from "../../kv/open.ts";
import { createJobQueue, type JobBackend } from "../jobs.ts";

const [path, backend] = Deno.args as [string, JobBackend];
const kv = await openKv({ path });
const queue = await createJobQueue<{ n: number }>({
  kv,
  name: "kill",
  backend,
  holder: "child",
  claimTtlMs: 300,
  leaseTtlMs: 300,
  handler: async (job) => {
    console.log(JSON.stringify({ started: job.id, attempt: job.attempt }));
    await new Promise(() => setInterval(() => {}, 1_000)); // hangs
  },
});
queue.start();
const { id } = await queue.enqueue({ n: 42 }, { idempotencyKey: "kill-1" });
console.log(JSON.stringify({ enqueued: id }));
