/**
 * The bridge between the bus and this isolate's hub, both ways:
 *
 * - bus → hub ({@linkcode bridgeBusToHub}): every message committed on the bus, by any
 *   isolate, is delivered to the hub's local subscribers, its lag since the commit
 *   observed (`realtime_bus_lag_seconds`); when this isolate missed part of the bus log
 *   (a gap), the subscribers of the channels of that shard are closed with
 *   `4004 reconnect`, so they come back and recover (all or nothing) instead of living
 *   with a silent hole; the bus's counters are exported with the hub's metrics.
 * - hub → bus ({@linkcode publishToBus}, the hub's `onPublish`): a client publish the hub
 *   accepted is committed on the bus, once per user, channel and client id; a message the
 *   bus can never store is refused for good with a {@linkcode PublishRefusal}
 *   (`payload_too_large`, `bad_message`), anything else stays temporary (`internal`).
 */
import { type BusEngine, BusRejection } from "../bus/engine.ts";
import type { Hub, PublishHandler } from "../gateway/hub.ts";
import { PublishRefusal } from "../gateway/hub.ts";
import type { GatewayMetrics } from "../gateway/metrics.ts";
import { CloseCode, ErrorCode } from "../protocol/codes.ts";
import type { Logger } from "./log.ts";

/** What the bridge needs of the bus. */
export type BridgedBus = Pick<BusEngine, "onMessage" | "onGap" | "stats">;

/** What the bridge needs of the hub. */
export type BridgedHub = Pick<Hub, "deliver" | "disconnectWhere" | "metrics">;

/** Options of {@linkcode bridgeBusToHub}. */
export interface BridgeOptions {
  /** Where the bus lag is observed and the bus's counters exported; default the hub's. */
  metrics?: Pick<GatewayMetrics, "busLagSeconds" | "registry">;
  /** Told of every gap, with the connections it closed. */
  log?: Pick<Logger, "warn">;
  /** Clock for the lag; default `Date.now`. */
  now?: () => number;
}

/**
 * Delivers every message of `bus` to `hub`'s local subscribers, closes the subscribers of
 * a shard this isolate missed messages of, and exports the bus's counters. Call once.
 */
export function bridgeBusToHub(
  bus: BridgedBus,
  hub: BridgedHub,
  options: BridgeOptions = {},
): void {
  const metrics = options.metrics ?? hub.metrics;
  const now = options.now ?? Date.now;
  bus.onMessage((m) => {
    metrics.busLagSeconds.observe(Math.max(0, now() - m.ts) / 1000);
    hub.deliver(m.channel, m.data, {
      offset: m.offset,
      epoch: m.epoch,
      ts: m.ts,
      from: m.from,
      fromName: m.fromName,
    });
  });
  bus.onGap((shard, shardOf) => {
    const connections = hub.disconnectWhere(
      (conn) => [...conn.channels].some((c) => shardOf(c) === shard),
      CloseCode.Reconnect,
      "the server fell behind the bus; reconnect to recover",
    );
    options.log?.warn("bus log gap: subscribers asked to reconnect", { shard, connections });
  });
  exportBusMetrics(bus, metrics.registry);
}

/**
 * The hub's `onPublish`: commits an accepted client publish on `bus` and answers its
 * position. A client retrying a publish (lost ack, reconnect) reuses its id, so the
 * publish is committed once per user, channel (the bus scopes keys by channel) and id.
 * A message the bus can never store is refused with {@linkcode PublishRefusal}: the
 * client is told not to retry it.
 */
export function publishToBus(bus: Pick<BusEngine, "publish">): PublishHandler {
  return async (channel, data, from, id) => {
    try {
      const m = await bus.publish(channel.channel, data, {
        from: from.userId,
        fromName: from.name,
        idempotencyKey: `${from.userId}:${id}`,
      });
      return { offset: m.offset, epoch: m.epoch };
    } catch (err) {
      if (!(err instanceof BusRejection)) throw err;
      throw new PublishRefusal(
        err.reason === "too_large" ? ErrorCode.PayloadTooLarge : ErrorCode.BadMessage,
        err.message,
      );
    }
  };
}

/** The bus's counters, read at scrape time. */
function exportBusMetrics(bus: BridgedBus, registry: GatewayMetrics["registry"]): void {
  registry.counterFrom(
    "realtime_bus_published_total",
    "Messages this isolate committed to the bus.",
    () => bus.stats().published,
  );
  registry.counterFrom(
    "realtime_bus_commits_total",
    "Bus commits of this isolate (one per batch).",
    () => bus.stats().commits,
  );
  registry.counterFrom(
    "realtime_bus_delivered_total",
    "Bus messages delivered to this isolate.",
    () => bus.stats().delivered,
  );
  registry.counterFrom(
    "realtime_bus_conflicts_total",
    "Bus commits retried after another isolate committed first.",
    () => bus.stats().conflicts,
  );
  registry.counterFrom(
    "realtime_bus_gaps_total",
    "Bus log entries this isolate missed (ordered delivery broken, clients reconnected).",
    () => bus.stats().gaps,
  );
  registry.gauge(
    "realtime_bus_max_batch",
    "Largest number of messages in one bus commit so far.",
    () => bus.stats().maxBatch,
  );
}
