/**
 * How many isolates `deno task start` and the guarded server run: `DENO_JOBS`, else one per
 * core — and one when KV is in memory (each isolate would open a database of its own: no
 * shared history, no shared leases). A `DENO_JOBS` that is not a positive integer ends the
 * process with a message naming it.
 */
import type { AppConfig } from "../lib/app/config.ts";

/** The isolate count for `config` (see the module doc). */
export function isolateCount(
  config: Pick<AppConfig, "kvPath" | "kvUrl">,
  jobsEnv = Deno.env.get("DENO_JOBS"),
  cores = navigator.hardwareConcurrency,
): number {
  const jobs = jobsEnv ? Number(jobsEnv) : cores;
  if (!Number.isInteger(jobs) || jobs < 1) {
    console.error(`Cannot read DENO_JOBS: expected a positive integer, got "${jobsEnv}"`);
    Deno.exit(1);
  }
  if (jobs > 1 && config.kvPath === ":memory:" && !config.kvUrl) {
    console.log(
      "KV_PATH=:memory: is per isolate: starting one isolate (use a file to run several)",
    );
    return 1;
  }
  return jobs;
}
