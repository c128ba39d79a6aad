/** Helpers shared by the jobs tests (not part of the public surface). */
import { jobDueKey, jobKey, jobPointerKey } from "../kv/keys.ts";
import { addMessage, type JobRecord, newJobId } from "./jobs_store.ts";
import type { JobLog } from "./jobs_types.ts";

/** A log that keeps lines instead of printing them. */
export function memoryLog(): JobLog & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    warn: (msg) => lines.push(`warn ${msg}`),
    error: (msg) => lines.push(`error ${msg}`),
  };
}

/**
 * Resolves when `condition()` is true; rejects after `timeoutMs` with
 * `Timed out after <timeoutMs> ms waiting for <what>`.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 3_000,
  what = "a condition",
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A job record as `enqueue` would write it. */
export function rawRecord<T>(payload: T, idempotencyKey: string, now = Date.now()): JobRecord<T> {
  return {
    id: newJobId(now),
    idempotencyKey,
    payload,
    enqueuedAt: now,
    runAt: now,
    attempts: 0,
    claim: null,
    lastError: null,
    firstAttemptAt: null,
  };
}

/**
 * Writes a job record behind enqueue's back (no idempotency check), as a redelivery or a
 * lost message would leave it, with the backend's wake-up unless `wake` is false.
 */
export async function writeRaw<T>(
  kv: Deno.Kv,
  queue: string,
  record: JobRecord<T>,
  wake: "kv-queue" | "outbox" | false,
): Promise<void> {
  let op = kv.atomic()
    .set(jobKey(queue, record.id), record)
    .set(jobDueKey(queue, record.runAt, record.id), 1);
  if (wake === "kv-queue") op = addMessage(op, queue, record, 0);
  if (wake === "outbox") op = op.sum(jobPointerKey(queue), 1n);
  const result = await op.commit();
  if (!result.ok) throw new Error("Cannot write raw job record");
}

/** A temporary KV file path, removed (with its WAL files) by the returned cleanup. */
export async function tempKvPath(): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "jobs_test_" });
  return {
    path: `${dir}/kv.sqlite`,
    remove: () => Deno.remove(dir, { recursive: true }).catch(() => {}),
  };
}
