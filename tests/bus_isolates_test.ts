/**
 * The KV bus across isolates of one process (workers, like `deno serve --parallel`):
 * bursts of thousands of messages published from several isolates reach every isolate
 * in order, none lost, none duplicated.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { deadline, waitFor } from "./_deadline.ts";

interface Received {
  channel: string;
  offset: number;
  tag: string;
  latencyMs: number;
}

/** How long one request to a worker may take (a burst of 1 000 publishes included), ms. */
const ASK_MS = 30_000;

function spawn(): { worker: Worker; ask: <T>(msg: Record<string, unknown>) => Promise<T> } {
  const worker = new Worker(new URL("./fixtures/bus_worker.ts", import.meta.url), {
    type: "module",
  });
  const waiting = new Map<number, (v: unknown) => void>();
  let next = 0;
  worker.onmessage = (e) => {
    waiting.get(e.data.id)?.(e.data);
    waiting.delete(e.data.id);
  };
  return {
    worker,
    ask: <T>(msg: Record<string, unknown>) => {
      const id = ++next;
      const answer = new Promise<T>((resolve) => {
        waiting.set(id, resolve as (v: unknown) => void);
        worker.postMessage({ ...msg, id });
      });
      return deadline(answer, ASK_MS, `the worker's answer to ${msg.kind}`)
        .finally(() => waiting.delete(id));
    },
  };
}

Deno.test({
  name: "[bus] three isolates, 3 000 messages in bursts: in order, none lost, none duplicated",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const path = `${dir}/kv.sqlite`;
    const isolates = [spawn(), spawn(), spawn()];
    try {
      for (const w of isolates) await w.ask({ kind: "start", path });
      const channels = ["room:a", "room:b", "room:c", "room:d", "room:e"];
      // Every isolate publishes 1 000 messages (200 per channel) at once.
      await Promise.all(
        isolates.map((w, n) =>
          Promise.all(
            channels.map((channel) =>
              w.ask({ kind: "publish", channel, count: 200, tag: `w${n}` })
            ),
          )
        ),
      );
      let reports: {
        received: Received[];
        stats: { commits: number; maxBatch: number; published: number };
      }[] = [];
      await waitFor(async () => {
        reports = [];
        for (const w of isolates) reports.push(await w.ask({ kind: "report" }));
        return reports.every((r) => r.received.length >= 3_000);
      }, {
        timeoutMs: 20_000,
        intervalMs: 50,
        what: "every isolate to receive 3 000 messages",
        detail: () => `received ${reports.map((r) => r.received.length)}`,
      });
      for (const [n, report] of reports.entries()) {
        equal(report.received.length, 3_000, `isolate ${n} received everything, once`);
        for (const channel of channels) {
          const offsets = report.received.filter((m) => m.channel === channel).map((m) => m.offset);
          deepStrictEqual(
            offsets,
            Array.from({ length: 600 }, (_, i) => i + 1),
            `isolate ${n}, ${channel}: gap-free and ordered`,
          );
        }
        const identity = (r: { received: Received[] }) =>
          new Map(r.received.map((m) => [`${m.channel}#${m.offset}`, m.tag]));
        deepStrictEqual(
          identity(report),
          identity(reports[0]),
          "the same message under each offset everywhere",
        );
      }
      const commits = reports.reduce((a, r) => a + r.stats.commits, 0);
      ok(commits < 3_000 / 5, `group commit: ${commits} commits for 3 000 messages`);
      const latencies = reports.flatMap((r) => r.received.map((m) => m.latencyMs)).sort((a, b) =>
        a - b
      );
      console.log(
        `cross-isolate burst: ${commits} commits, max batch ${
          Math.max(...reports.map((r) => r.stats.maxBatch))
        }, ` +
          `latency p50 ${latencies[Math.floor(latencies.length / 2)]} ms, p99 ${
            latencies[Math.floor(latencies.length * 0.99)]
          } ms (burst, not a benchmark)`,
      );
    } finally {
      // Each stop is bounded; the workers are terminated whatever their answer.
      await Promise.allSettled(isolates.map((w) => w.ask({ kind: "stop" })));
      for (const w of isolates) w.worker.terminate();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
