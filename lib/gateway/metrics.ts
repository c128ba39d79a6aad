/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered in
 * the text exposition format 0.0.4. Label sets are bounded per metric so a bug cannot
 * turn a metric into a memory leak.
 */

type Labels = Readonly<Record<string, string>>;

const MAX_SERIES = 1_000;

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return "";
  return keys.map((k) => `${k}="${escapeLabel(labels[k])}"`).join(",");
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatNumber(n: number): string {
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return Number.isNaN(n) ? "NaN" : String(n);
}

interface Metric {
  render(): string;
}

abstract class Series<T> implements Metric {
  protected series = new Map<string, T>();
  constructor(readonly name: string, readonly help: string, readonly type: string) {}

  protected get(labels: Labels, create: () => T): T | undefined {
    const key = labelKey(labels);
    let value = this.series.get(key);
    if (value === undefined) {
      if (this.series.size >= MAX_SERIES) return undefined;
      this.series.set(key, value = create());
    }
    return value;
  }

  protected header(): string {
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} ${this.type}\n`;
  }

  abstract render(): string;
}

/** A monotonically increasing count. */
export class Counter extends Series<{ v: number }> {
  constructor(name: string, help: string) {
    super(name, help, "counter");
  }
  /** Adds `by` (default 1). */
  inc(labels: Labels = {}, by = 1): void {
    const s = this.get(labels, () => ({ v: 0 }));
    if (s) s.v += by;
  }
  /** The current value for `labels`. */
  value(labels: Labels = {}): number {
    return this.series.get(labelKey(labels))?.v ?? 0;
  }
  render(): string {
    let out = this.header();
    for (const [key, s] of this.series) {
      out += `${this.name}${key ? `{${key}}` : ""} ${formatNumber(s.v)}\n`;
    }
    return out;
  }
}

/** A value read when rendered: a gauge, or a counter kept elsewhere. */
export class Gauge implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly read: () => number,
    readonly type: "gauge" | "counter" = "gauge",
  ) {}
  render(): string {
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} ${this.type}\n${this.name} ${
      formatNumber(this.read())
    }\n`;
  }
}

/** A distribution over fixed buckets (upper bounds, ascending). */
export class Histogram extends Series<{ counts: number[]; sum: number; count: number }> {
  constructor(name: string, help: string, readonly buckets: readonly number[]) {
    super(name, help, "histogram");
  }
  /** Records one observation. */
  observe(value: number, labels: Labels = {}): void {
    const s = this.get(labels, () => ({ counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    if (!s) return;
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) s.counts[i]++;
    s.sum += value;
    s.count++;
  }
  /** Observations recorded for `labels`. */
  count(labels: Labels = {}): number {
    return this.series.get(labelKey(labels))?.count ?? 0;
  }
  render(): string {
    let out = this.header();
    for (const [key, s] of this.series) {
      const sep = key ? `${key},` : "";
      this.buckets.forEach((b, i) => {
        out += `${this.name}_bucket{${sep}le="${formatNumber(b)}"} ${s.counts[i]}\n`;
      });
      out += `${this.name}_bucket{${sep}le="+Inf"} ${s.count}\n`;
      out += `${this.name}_sum${key ? `{${key}}` : ""} ${formatNumber(s.sum)}\n`;
      out += `${this.name}_count${key ? `{${key}}` : ""} ${s.count}\n`;
    }
    return out;
  }
}

/** A set of metrics rendered together. */
export class Registry {
  #metrics: Metric[] = [];

  /** Registers and returns a counter. */
  counter(name: string, help: string): Counter {
    return this.#add(new Counter(name, help));
  }
  /** Registers and returns a gauge read at render time. */
  gauge(name: string, help: string, read: () => number): Gauge {
    return this.#add(new Gauge(name, help, read));
  }
  /** Registers a counter whose value is kept elsewhere and read at render time. */
  counterFrom(name: string, help: string, read: () => number): Gauge {
    return this.#add(new Gauge(name, help, read, "counter"));
  }
  /** Registers and returns a histogram. */
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.#add(new Histogram(name, help, buckets));
  }
  /** The Prometheus text exposition of every metric. */
  render(): string {
    return this.#metrics.map((m) => m.render()).join("");
  }
  #add<M extends Metric>(metric: M): M {
    this.#metrics.push(metric);
    return metric;
  }
}

/** The gateway's metrics. */
export interface GatewayMetrics {
  registry: Registry;
  connectionsOpened: Counter;
  disconnects: Counter;
  messages: Counter;
  bytes: Counter;
  broadcastSeconds: Histogram;
  pingRttSeconds: Histogram;
  conflations: Counter;
  deltaMessages: Counter;
  batchedFrames: Counter;
  batchedMessages: Counter;
  slowConsumerCloses: Counter;
  rateLimited: Counter;
  upgradesRefused: Counter;
  recoveries: Counter;
  busLagSeconds: Histogram;
}

/** Creates the gateway's metrics; `gauges` are read at scrape time. */
export function createGatewayMetrics(gauges: {
  connections: () => number;
  subscriptions: () => number;
  channels: () => number;
}): GatewayMetrics {
  const registry = new Registry();
  registry.gauge(
    "realtime_connections",
    "Open WebSocket connections in this isolate.",
    gauges.connections,
  );
  registry.gauge(
    "realtime_subscriptions",
    "Channel subscriptions in this isolate.",
    gauges.subscriptions,
  );
  registry.gauge(
    "realtime_channels",
    "Channels with at least one subscriber in this isolate.",
    gauges.channels,
  );
  return {
    registry,
    connectionsOpened: registry.counter(
      "realtime_connections_opened_total",
      "Connections accepted.",
    ),
    disconnects: registry.counter(
      "realtime_disconnects_total",
      "Connections closed, by close code.",
    ),
    messages: registry.counter(
      "realtime_messages_total",
      "Protocol messages, by type and direction (in = from clients, out = to clients).",
    ),
    bytes: registry.counter("realtime_bytes_total", "Frame bytes, by direction."),
    broadcastSeconds: registry.histogram(
      "realtime_broadcast_duration_seconds",
      "Time to hand one published message to every local subscriber.",
      [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5],
    ),
    pingRttSeconds: registry.histogram(
      "realtime_ping_rtt_seconds",
      "Heartbeat round-trip time (server ping to client pong).",
      [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    ),
    conflations: registry.counter(
      "realtime_conflations_total",
      "Latest-value messages replaced by a newer one while a slow socket was behind.",
    ),
    deltaMessages: registry.counter(
      "realtime_delta_messages_total",
      "Latest-value messages sent as a patch against the previous one (subscriptions with delta).",
    ),
    batchedFrames: registry.counter(
      "realtime_batched_frames_total",
      "Frames that carried several messages to a batching connection (the ….batch subprotocol).",
    ),
    batchedMessages: registry.counter(
      "realtime_batched_messages_total",
      "Messages sent inside those frames.",
    ),
    slowConsumerCloses: registry.counter(
      "realtime_slow_consumer_closes_total",
      "Connections closed because their outbound data exceeded the bound.",
    ),
    rateLimited: registry.counter(
      "realtime_rate_limited_total",
      "Refusals by a rate limit, by scope.",
    ),
    upgradesRefused: registry.counter(
      "realtime_upgrades_refused_total",
      "Upgrades refused, by reason.",
    ),
    recoveries: registry.counter(
      "realtime_recoveries_total",
      "Subscriptions with a recovery position, by result (recovered / not_recovered).",
    ),
    busLagSeconds: registry.histogram(
      "realtime_bus_lag_seconds",
      "Time from a message's commit on the bus to its delivery to this isolate's hub.",
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    ),
  };
}
