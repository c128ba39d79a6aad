/**
 * Cluster-wide views for `deno serve --parallel` and several hosts: every isolate writes
 * its status and Prometheus metrics to KV every few seconds (expiring), and
 * `?scope=cluster` on `/api/websocket/status` and `/metrics` reads them all, so a scraper
 * or an operator sees every isolate whichever one answers.
 */
import { isolateReportKey, isolateReportPrefix } from "../kv/keys.ts";

/** What one isolate reports. */
export interface IsolateReport {
  isolate: string;
  at: number;
  status: Record<string, unknown>;
  metrics: string;
}

/** Options of {@linkcode startReporter}. */
export interface ReporterOptions {
  kv: Deno.Kv;
  isolateId: string;
  /** How often to write, ms. Reports expire after 3 intervals. Default 5 000. */
  intervalMs?: number;
  snapshot(): { status: Record<string, unknown>; metrics: string };
  onError?(err: unknown): void;
}

/** Writes this isolate's report now and every interval; returns a stop function. */
export function startReporter(options: ReporterOptions): () => Promise<void> {
  const intervalMs = options.intervalMs ?? 5_000;
  const write = async () => {
    const { status, metrics } = options.snapshot();
    const report: IsolateReport = { isolate: options.isolateId, at: Date.now(), status, metrics };
    await options.kv.set(isolateReportKey(options.isolateId), report, { expireIn: intervalMs * 3 });
  };
  let last = write().catch(options.onError);
  const timer = setInterval(() => last = write().catch(options.onError), intervalMs);
  return async () => {
    clearInterval(timer);
    await last;
    await options.kv.delete(isolateReportKey(options.isolateId)).catch(options.onError);
  };
}

/** Every live isolate's latest report. */
export async function readReports(kv: Deno.Kv): Promise<IsolateReport[]> {
  const out: IsolateReport[] = [];
  for await (const entry of kv.list<IsolateReport>({ prefix: isolateReportPrefix() })) {
    out.push(entry.value);
  }
  return out;
}

/** Sums the numeric top-level fields of the isolates' status documents. */
export function clusterTotals(reports: IsolateReport[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const r of reports) {
    for (const [k, v] of Object.entries(r.status)) {
      if (typeof v === "number" && k !== "uptimeMs") totals[k] = (totals[k] ?? 0) + v;
    }
  }
  return totals;
}

/**
 * Merges Prometheus text expositions of several isolates into one: each sample gets an
 * `isolate` label, and each metric family keeps one HELP / TYPE header with all its samples
 * together, as the format requires.
 */
export function mergeMetrics(reports: { isolate: string; metrics: string }[]): string {
  const families = new Map<string, { header: string[]; samples: string[] }>();
  for (const { isolate, metrics } of reports) {
    let family = "";
    for (const line of metrics.split("\n")) {
      if (line === "") continue;
      const meta = line.match(/^# (HELP|TYPE) (\S+)/);
      if (meta) {
        family = meta[2];
        let f = families.get(family);
        if (!f) families.set(family, f = { header: [], samples: [] });
        if (f.header.length < 2 && !f.header.some((h) => h.startsWith(`# ${meta[1]} `))) {
          f.header.push(line);
        }
        continue;
      }
      const label = `isolate="${isolate.replace(/["\\\n]/g, "_")}"`;
      const sample = line.includes("{")
        ? line.replace("{", `{${label},`)
        : line.replace(/^(\S+) /, `$1{${label}} `);
      families.get(family)?.samples.push(sample);
    }
  }
  let out = "";
  for (const f of families.values()) out += [...f.header, ...f.samples].join("\n") + "\n";
  return out;
}
