import { deepStrictEqual, equal } from "node:assert/strict";
import { clusterTotals, mergeMetrics, readReports, startReporter } from "./cluster.ts";
import { waitFor } from "../../tests/_deadline.ts";

Deno.test("[cluster] metrics of several isolates merge into one valid exposition", () => {
  const a =
    `# HELP realtime_connections Open.\n# TYPE realtime_connections gauge\nrealtime_connections 3\n` +
    `# HELP realtime_disconnects_total Closed.\n# TYPE realtime_disconnects_total counter\nrealtime_disconnects_total{code="1000"} 2\n`;
  const b =
    `# HELP realtime_connections Open.\n# TYPE realtime_connections gauge\nrealtime_connections 5\n`;
  deepStrictEqual(
    mergeMetrics([{ isolate: "i1", metrics: a }, { isolate: "i2", metrics: b }]).split("\n"),
    [
      "# HELP realtime_connections Open.",
      "# TYPE realtime_connections gauge",
      'realtime_connections{isolate="i1"} 3',
      'realtime_connections{isolate="i2"} 5',
      "# HELP realtime_disconnects_total Closed.",
      "# TYPE realtime_disconnects_total counter",
      'realtime_disconnects_total{isolate="i1",code="1000"} 2',
      "",
    ],
  );
});

Deno.test("[cluster] isolates report to KV; totals sum them; a stopped isolate disappears", async () => {
  using kv = await Deno.openKv(":memory:");
  const stopA = startReporter({
    kv,
    isolateId: "a",
    intervalMs: 50,
    snapshot: () => ({ status: { connections: 2, uptimeMs: 9 }, metrics: "" }),
  });
  const stopB = startReporter({
    kv,
    isolateId: "b",
    intervalMs: 50,
    snapshot: () => ({ status: { connections: 3, uptimeMs: 9 }, metrics: "" }),
  });
  // Each reporter writes its first report at once; wait for both to be committed.
  const reports = await waitFor(async () => {
    const found = await readReports(kv);
    return found.length === 2 && found;
  }, { timeoutMs: 5_000, what: "a report from each of the two isolates" });
  deepStrictEqual(reports.map((r) => r.isolate).sort(), ["a", "b"]);
  deepStrictEqual(clusterTotals(reports), { connections: 5 });
  await stopA();
  equal((await readReports(kv)).length, 1);
  await stopB();
});
