/**
 * The application's services for one isolate, built from configuration with every
 * dependency passed in: KV, the gateway hub, the market producer and the board watcher.
 */
import { type Auth, createAuth, demoLoginLine, ensureDemoAccount } from "../auth/mod.ts";
import type { BusEngine } from "../bus/engine.ts";
import { openKv } from "../bus/kv.ts";
import { createKvBus } from "../bus/kv_bus.ts";
import { type Namespaces, resolveChannel } from "../gateway/namespaces.ts";
import { CloseCode } from "../protocol/codes.ts";
import { type Admission, createAdmission } from "../gateway/admission.ts";
import { Hub } from "../gateway/hub.ts";
import { logMessages } from "../gateway/middleware.ts";
import { appNamespaces } from "./channels.ts";
import {
  createSimulatedMarket,
  type PriceBoard,
  priceChannel,
  readBoard,
  runMarketProducer,
  watchBoard,
} from "../prices/mod.ts";
import { startReporter } from "./cluster.ts";
import type { AppConfig } from "./config.ts";
import { isolateStatus } from "./status.ts";
import { createLogger, type Logger } from "./log.ts";

/** The services routes use, reachable through `ctx.state.services`. */
export interface AppServices {
  readonly config: AppConfig;
  readonly kv: Deno.Kv;
  readonly hub: Hub;
  /** Admission of WebSocket upgrades (rates, caps, subprotocol, Origin, credentials). */
  readonly admit: Admission;
  /** Cross-isolate fan-out with channel history (lib/bus). */
  readonly bus: BusEngine;
  /** Channel namespaces and their policies (lib/app/channels.ts). */
  readonly namespaces: Namespaces;
  /**
   * Whether KV is remote (KV Connect or Deno Deploy): durable job queues created with
   * `createJobQueue({ remote: services.kvRemote, … })` then use the outbox backend, since
   * remote KV has no queues.
   */
  readonly kvRemote: boolean;
  readonly log: Logger;
  /** Accounts, sessions, access tokens and the Origin policy (lib/auth). */
  readonly auth: Auth;
  /** Unique id of this isolate. */
  readonly isolateId: string;
  readonly startedAt: number;
  /** The newest price board this isolate has seen. */
  board(): PriceBoard | null;
  /** Stops producers and watchers, closes sockets and KV. Idempotent. */
  close(): Promise<void>;
}

/** Optional overrides for tests. */
export interface ServiceDeps {
  kv?: Deno.Kv;
  log?: Logger;
  now?: () => number;
}

/** How long start-up waits for the first price board before serving anyway. */
const FIRST_BOARD_WAIT_MS = 3_000;

/** Starts everything one isolate needs. */
export async function createServices(
  config: AppConfig,
  deps: ServiceDeps = {},
): Promise<AppServices> {
  const now = deps.now ?? Date.now;
  const isolateId = crypto.randomUUID().slice(0, 8);
  const log = deps.log ?? createLogger(config.logLevel, { isolate: isolateId });
  const kv = deps.kv ?? await openKv({ path: config.kvUrl ?? config.kvPath });
  const auth = await createAuth({
    kv,
    secret: config.authSecret,
    allowedOrigins: config.allowedOrigins,
    tokenTtlSec: config.tokenTtlSec,
    sessionTtlSec: config.sessionTtlSec,
    pbkdf2Iterations: config.pbkdf2Iterations,
    signupLimits: { perIp: config.signupsPerHourPerIp },
    now,
  });
  const demo = await ensureDemoAccount(auth, { password: config.demoPassword });
  // A generated password exists only here, in the isolate that created the account:
  // one plain line for the human starting the server, never a log field.
  if (demo.status === "created") console.log(demoLoginLine(demo));
  else log.info("demo account", { username: demo.username, note: demoLoginLine(demo) });
  const market = createSimulatedMarket({ seed: config.marketSeed, now });
  const known = new Set(market.symbols);
  let latest: PriceBoard | null = await readBoard(kv);

  const namespaces = appNamespaces({ symbols: known, board: () => latest });
  const bus = await createKvBus({
    kv,
    now,
    historyOf(channel) {
      const resolved = resolveChannel(namespaces, channel);
      return "error" in resolved ? { size: 0, ttlMs: 0 } : resolved.policy.history;
    },
    onError: (err) => log.warn("bus error", { err }),
  });
  const hub = new Hub({
    serverId: isolateId,
    namespaces,
    limits: config.limits,
    auth,
    history: bus,
    async onPublish(channel, data, from, id) {
      // A client retrying a publish (lost ack, reconnect) reuses its id: commit it once.
      const m = await bus.publish(channel.channel, data, {
        from: from.userId,
        idempotencyKey: `${from.userId}:${id}`,
      });
      return { offset: m.offset, epoch: m.epoch };
    },
    now,
    log,
  });
  hub.use(logMessages(log));
  hub.start();
  bus.onMessage((m) => {
    hub.metrics.busLagSeconds.observe(Math.max(0, now() - m.ts) / 1000);
    hub.publish(m.channel, m.data, { offset: m.offset, epoch: m.epoch, ts: m.ts, from: m.from });
  });
  bus.onGap((shard, shardOf) => {
    const n = hub.disconnectWhere(
      (conn) => [...conn.channels].some((c) => shardOf(c) === shard),
      CloseCode.Reconnect,
      "the server fell behind the bus; reconnect to recover",
    );
    log.warn("bus log gap: subscribers asked to reconnect", { shard, connections: n });
  });
  const registry = hub.metrics.registry;
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
  const admit = createAdmission({ hub, auth, now });
  const stop = new AbortController();

  const producer = runMarketProducer({
    kv,
    market,
    holder: isolateId,
    intervalMs: config.marketTickMs,
    signal: stop.signal,
    now,
    onError: (err) => log.warn("market producer error", { err }),
    onLeaseChange: (holding) =>
      log.info(holding ? "market lease acquired" : "market lease released"),
    async publish(quotes) {
      await Promise.all(quotes.map((q) => bus.publish(priceChannel(q.symbol), q)));
    },
  });

  let firstBoard: () => void = () => {};
  const firstBoardSeen = new Promise<void>((resolve) => firstBoard = resolve);
  const watcher = (async () => {
    try {
      for await (const board of watchBoard(kv, stop.signal)) {
        if (latest && board.seq <= latest.seq) continue;
        latest = board;
        firstBoard();
      }
    } catch (err) {
      if (!stop.signal.aborted) log.error("price board watcher stopped", { err });
    }
  })();

  if (!latest) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      firstBoardSeen,
      new Promise((resolve) => timer = setTimeout(resolve, FIRST_BOARD_WAIT_MS)),
    ]);
    clearTimeout(timer);
  }

  const startedAt = now();
  const stopReporter = startReporter({
    kv,
    isolateId,
    snapshot: () => ({
      status: isolateStatus({ hub, bus, namespaces, isolateId, startedAt }),
      metrics: hub.metrics.registry.render(),
    }),
    onError: (err) => log.warn("cluster report failed", { err }),
  });

  let closed: Promise<void> | undefined;
  return {
    config,
    kv,
    hub,
    admit,
    bus,
    namespaces,
    kvRemote: config.kvRemote,
    log,
    auth,
    isolateId,
    startedAt,
    board: () => latest,
    close() {
      closed ??= (async () => {
        stop.abort();
        hub.stop();
        await stopReporter();
        await producer;
        await watcher;
        await bus.close();
        if (!deps.kv) kv.close();
      })();
      return closed;
    },
  };
}
