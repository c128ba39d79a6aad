/**
 * Renders a harness run (bench/results/latest.json) as the Markdown tables of
 * docs/PERFORMANCE.md: per latency scenario the headline (capacity at p99 ≤ 50 ms and its
 * ratios; for the board, freshness at 150 % of capacity) and the ladder; then connect, idle,
 * storm.
 *
 *   deno run -A bench/report.ts [bench/results/latest.json]
 */
type Row = Record<string, string | number | null>;
interface Run {
  date: string;
  deno: string;
  pinning: string;
  loadAverageAtStart: string;
  loadAverageAtEnd: string;
  failures: string[];
  report: Record<string, Row[]>;
}

const path = Deno.args[0] ?? new URL("./results/latest.json", import.meta.url).pathname;
const run: Run = JSON.parse(await Deno.readTextFile(path));

const n = (v: unknown) =>
  v === null || v === undefined || v === ""
    ? "–"
    : typeof v === "number"
    ? (Number.isInteger(v) ? v.toLocaleString("en").replaceAll(",", " ") : String(v))
    : String(v);

function table(cols: [string, string][], rows: Row[]): string {
  const out = [
    `| ${cols.map((c) => c[1]).join(" | ")} |`,
    `| ${cols.map(() => "---").join(" | ")} |`,
  ];
  for (const r of rows) out.push(`| ${cols.map(([k]) => n(r[k])).join(" | ")} |`);
  return out.join("\n");
}

const out: string[] = [];
out.push(
  `Run of ${run.date} (Deno ${run.deno}); ${run.pinning}; load average (1, 5, 15 min) ${run.loadAverageAtStart} at the start, ${run.loadAverageAtEnd} at the end.${
    run.failures.length ? ` **Failures:** ${run.failures.join("; ")}.` : " No failures."
  }`,
);
for (const sc of ["fanout", "board", "isolates"]) {
  const head = run.report[sc];
  if (!head) continue;
  out.push(`\n#### ${sc}: capacity at p99 ≤ 50 ms\n`);
  out.push(table([
    ["server", "server"],
    ["capacityAtP99", "capacity at p99 ≤ 50 ms (deliveries/s)"],
    ["p99AtCapacity", "p99 there (ms)"],
    ["throughputPerSec", "throughput (probe, /s)"],
    ["vsRawDeno", "× raw Deno"],
    ["vsWsNode", "× ws-node"],
    ["vsSocketIo", "× Socket.IO"],
    ["note", "note"],
  ], head));
  if (sc === "board") {
    out.push(
      `\n#### board: freshness under overload (150 % of each server's capacity, busy core)\n`,
    );
    out.push(table([
      ["server", "server"],
      ["overloadStep", "step"],
      ["overloadOffered", "offered (/s)"],
      ["overloadServerCpu", "server CPU"],
      ["overloadLoadCpu", "load CPU"],
      ["ageP50ms", "age p50 (ms)"],
      ["ageP99ms", "age p99 (ms)"],
      ["ageMaxMs", "age max (ms)"],
      ["skippedPct", "values skipped (%)"],
      ["overloadLost", "lost"],
      ["overloadNote", "note"],
    ], head));
  }
  const steps = run.report[`${sc}-steps`];
  if (steps) {
    out.push(`\n#### ${sc}: every step\n`);
    const cols: [string, string][] = [
      ["server", "server"],
      ["step", "step"],
      ["offeredPerSec", "offered /s"],
      ["deliveredPerSec", "delivered /s"],
      ["p50ms", "p50"],
      ["p99ms", "p99"],
      ["maxMs", "max"],
      ["lost", "lost"],
      ["serverCpu", "server CPU"],
      ["loadCpu", "load CPU"],
    ];
    if (sc === "board") cols.push(["ageP99ms", "age p99"], ["skippedPct", "skipped %"]);
    cols.push(["note", "note"]);
    out.push(table(cols, steps));
  }
}
if (run.report.connect) {
  out.push(`\n#### connect\n`);
  out.push(table([
    ["server", "server"],
    ["opened", "opened"],
    ["failed", "failed"],
    ["connectionsPerSec", "connections/s"],
    ["serverCpuMsPer1k", "server CPU ms / 1 000"],
    ["serverCpu", "server CPU"],
    ["loadCpu", "load CPU"],
    ["note", "note"],
  ], run.report.connect));
}
if (run.report.idle) {
  out.push(`\n#### idle\n`);
  out.push(table([
    ["server", "server"],
    ["connections", "connections"],
    ["kbPerConnection", "RSS KB / connection"],
    ["heapKbPerConnection", "JS heap KB / connection"],
    ["rssBeforeMB", "RSS before (MB)"],
    ["rssAfterMB", "RSS after (MB)"],
  ], run.report.idle));
}
if (run.report.storm) {
  out.push(`\n#### storm\n`);
  out.push(table([
    ["server", "server"],
    ["clients", "clients"],
    ["restartMs", "restart ms"],
    ["percentComplete", "complete %"],
    ["duplicatesOrGaps", "duplicates or gaps"],
    ["p50ms", "p50"],
    ["p99ms", "p99"],
    ["maxMs", "max"],
  ], run.report.storm));
}
console.log(out.join("\n"));
