/**
 * The application's services for one isolate, built from configuration with every
 * dependency passed in: KV, the gateway hub, the market producer and the board watcher.
 */
import { type Auth, createAuth, demoLoginLine, ensureDemoAccount } from "../auth/mod.ts";
import type { BusEngine } from "../bus/engine.ts";
import { openKv } from "../kv/open.ts";
import { createKvBus } from "../bus/kv_bus.ts";
import { closeRedis, openRedis } from "../bus/redis.ts";
import { createRedisBus } from "../bus/redis_bus.ts";
import {
  type ClusterState,
  createClusterState,
  createKvClusterStore,
  createRedisClusterStore,
} from "../cluster/mod.ts";
import { type Namespaces, resolveChannel } from "../gateway/namespaces.ts";
import { type Admission, createAdmission } from "../gateway/admission.ts";
import { Hub } from "../gateway/hub.ts";
import { DEFAULT_FLOW } from "../gateway/outbound.ts";
import { logMessages } from "../gateway/middleware.ts";
import { appNamespaces } from "./channels.ts";
import { bridgeBusToHub, publishToBus } from "./bridge.ts";
import { mergeIntoBoard, type PriceBoard, readBoard, watchBoard } from "../prices/mod.ts";
import { runPriceEngine } from "../prices/engine.ts";
import { createPriceFeeds } from "../prices/sources.ts";
import { startReporter } from "./cluster.ts";
import type { AppConfig } from "./config.ts";
import { isolateStatus } from "./status.ts";
import { createLogger, type Logger } from "./log.ts";
import { requireWatcher } from "../wallet/authorize.ts";
import { type ChainService, createChainService, offStatus } from "../wallet/service.ts";
import { boardPrice } from "../wallet/view.ts";
import {
  createNotifier,
  type Notifier,
  type NotifierJobOptions,
} from "../notifications/delivery.ts";
import {
  type AlertEngine,
  createRuleStore,
  createWalletAlerts,
  type RuleStore,
  startAlertEngine,
  type WalletAlerts,
} from "../alerts/mod.ts";

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
  /** The chain (lib/wallet): its status; the listener runs under the `chain` lease. */
  readonly chain: ChainService;
  /** The inbox and durable notification delivery (lib/notifications). */
  readonly notifications: Notifier;
  /**
   * Alert rules (lib/alerts): the store behind `/api/alerts`, the price engine (evaluates
   * under the `alerts` lease) and the wallet events (`wallet.onWalletEvent`).
   */
  readonly alerts: { rules: RuleStore; engine: AlertEngine; wallet: WalletAlerts };
  /**
   * Cluster-wide state on the bus's engine (lib/cluster): presence, per-user connection
   * caps, the login limiter's counters and the leases (market, chain, alerts).
   */
  readonly cluster: ClusterState;
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
  // With REDIS_URL the bus runs on Redis (every process on every host), else on KV.
  const redis = config.redisUrl
    ? await openRedis(config.redisUrl, { onError: (err) => log.warn("redis error", { err }) })
    : undefined;
  // Presence, per-user connection caps, the login limiter and the leases are counted
  // cluster-wide, on the bus's engine (lib/cluster).
  const clusterOnError = (err: unknown) => log.warn("cluster store error", { err });
  const cluster = await createClusterState({
    store: redis
      ? createRedisClusterStore({ redis, isolate: isolateId, now, onError: clusterOnError })
      : createKvClusterStore({ kv, isolate: isolateId, now, onError: clusterOnError }),
    isolate: isolateId,
    maxPresenceMembers: config.limits.maxPresenceMembers,
    ttlMs: config.clusterTtlMs,
    beatMs: Math.max(200, Math.floor(config.clusterTtlMs / 5)),
    now,
    log,
  });
  const auth = await createAuth({
    kv,
    loginAttempts: cluster.attempts,
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
  const known = new Set(config.prices.symbols);
  let latest: PriceBoard | null = await readBoard(kv);

  let chain: ChainService | null = null;
  const namespaces = appNamespaces({
    symbols: known,
    board: () => latest,
    chainStatus: () => chain?.status() ?? offStatus(config.chain, now()),
  });
  /** Whether `channel` is in a latest-value namespace: a newer value may replace a waiting one. */
  const isLatest = (channel: string) => {
    const resolved = resolveChannel(namespaces, channel);
    return !("error" in resolved) && resolved.policy.mode === "latest";
  };
  const busOptions = {
    now,
    historyOf(channel: string) {
      const resolved = resolveChannel(namespaces, channel);
      return "error" in resolved ? { size: 0, ttlMs: 0 } : resolved.policy.history;
    },
    onError: (err: unknown) => log.warn("bus error", { err }),
  };
  const bus = redis
    ? await createRedisBus({ redis, ...busOptions })
    : await createKvBus({ kv, ...busOptions });
  const hub = new Hub({
    serverId: isolateId,
    namespaces,
    limits: config.limits,
    auth,
    history: bus,
    // Latest values: coalesced when they come faster than they can be sent, and held for a
    // client behind on a ping (docs/PERFORMANCE.md, "Fresh prices under overload").
    coalesceLatest: true,
    flow: DEFAULT_FLOW,
    presence: cluster.presence.tracker,
    observer: cluster.slots,
    // Accepted client publishes are committed on the bus (lib/app/bridge.ts).
    onPublish: publishToBus(bus),
    now,
    log,
  });
  hub.use(logMessages(log));
  hub.use(requireWatcher(kv));
  hub.start();
  // Bus → hub: delivery to local subscribers, gaps closing them, the bus's metrics.
  bridgeBusToHub(bus, hub, { log, now });
  const admit = createAdmission({ hub, auth, slots: cluster.slots, now });
  const stop = new AbortController();

  // Notifications and alerts (lib/notifications, lib/alerts): durable jobs in every isolate,
  // price rules evaluated by the `alerts` lease holder on every quote of the bus.
  const recovery = config.notifyRecoveryMs;
  const jobs: NotifierJobOptions = {
    claimTtlMs: recovery,
    leaseTtlMs: recovery,
    sweepIntervalMs: recovery,
    sweepGraceMs: 3 * recovery,
  };
  const notifications = await createNotifier({
    kv,
    bus,
    remote: config.kvRemote,
    backend: config.notifyBackend,
    holder: isolateId,
    now,
    log,
    jobs,
  });
  notifications.start();
  const notify = (inputs: Parameters<Notifier["notifyMany"]>[0]) =>
    notifications.notifyMany(inputs);
  const alertRules = createRuleStore({ kv, now, priceOf: (s) => latest?.quotes[s]?.price });
  const walletAlerts = await createWalletAlerts({
    kv,
    notify,
    remote: config.kvRemote,
    backend: config.notifyBackend,
    holder: isolateId,
    now,
    log,
    jobs,
    nativeSymbol: config.chain.nativeSymbol,
  });
  walletAlerts.start();
  const alertEngine = startAlertEngine({
    kv,
    leases: cluster.leases,
    holder: isolateId,
    signal: stop.signal,
    notify,
    now,
    log,
    onLeaseChange: (holding) =>
      log.info(holding ? "alerts lease acquired" : "alerts lease released"),
  });
  bus.onMessage((m) => {
    // Price channels also keep this isolate's board current: with a KV of its own per
    // process (several hosts on Redis) the board in KV is only the producer's.
    latest = mergeIntoBoard(latest, m.channel, m.data, m.ts);
    notifications.onBusMessage(m);
    alertEngine.onBusMessage(m);
    walletAlerts.onBusMessage(m);
  });

  // Only the `market` lease holder runs the venue feeds (lib/prices/engine.ts).
  const producer = runPriceEngine({
    kv,
    leases: cluster.leases,
    holder: isolateId,
    signal: stop.signal,
    symbols: config.prices.symbols,
    intervalMs: config.priceRoundMs,
    createFeeds: (ctx) =>
      createPriceFeeds({
        sources: config.prices.sources,
        symbols: config.prices.symbols,
        urls: config.prices.urls,
        seed: config.marketSeed,
        stepMs: config.marketTickMs,
        now,
        log,
      }, ctx),
    aggregator: {
      deviationPct: config.priceDeviationPct,
      heartbeatMs: config.priceHeartbeatMs,
      maxAgeMs: config.priceMaxAgeMs,
    },
    now,
    onError: (err) => log.warn("price engine error", { err }),
    onLeaseChange: (holding) =>
      log.info(holding ? "market lease acquired" : "market lease released", {
        sources: config.prices.sources.join(","),
      }),
    async publish(messages) {
      // Prices, candles and the overview are latest values: under load the bus commits the
      // newest of each channel, not every value late (lib/bus/group_commit.ts).
      await Promise.all(
        messages.map((m) => bus.publish(m.channel, m.data, { latest: isLatest(m.channel) })),
      );
    },
  });

  // Only the `chain` lease holder talks to the node (lib/wallet/engine.ts).
  const chainService = await createChainService({
    kv,
    leases: cluster.leases,
    config: config.chain,
    holder: isolateId,
    log,
    now,
    price: () => boardPrice(latest?.quotes),
    async publish(messages) {
      await Promise.all(
        messages.map((m) =>
          bus.publish(
            m.channel,
            m.data,
            m.key === undefined ? { latest: isLatest(m.channel) } : { idempotencyKey: m.key },
          )
        ),
      );
    },
  });
  chain = chainService;

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
    chain: chainService,
    notifications,
    alerts: { rules: alertRules, engine: alertEngine, wallet: walletAlerts },
    cluster,
    close() {
      closed ??= (async () => {
        stop.abort();
        hub.stop();
        await stopReporter();
        await producer;
        await chainService.close();
        await watcher;
        await alertEngine.done;
        await Promise.all([notifications.stop(), walletAlerts.stop()]);
        await bus.close();
        await cluster.close();
        if (redis) await closeRedis(redis);
        if (!deps.kv) kv.close();
      })();
      return closed;
    },
  };
}
