/**
 * The application's services for one isolate, built from configuration with every
 * dependency passed in: KV, the gateway hub, the market producer and the board watcher.
 */
import { openKv } from "../bus/kv.ts";
import { type ChannelResolution, Hub } from "../gateway/hub.ts";
import {
  changedQuotes,
  createSimulatedMarket,
  type PriceBoard,
  priceChannel,
  readBoard,
  runMarketProducer,
  symbolOfChannel,
  watchBoard,
} from "../prices/mod.ts";
import type { AppConfig } from "./config.ts";
import { createLogger, type Logger } from "./log.ts";

/** The services routes use, reachable through `ctx.state.services`. */
export interface AppServices {
  readonly config: AppConfig;
  readonly kv: Deno.Kv;
  readonly hub: Hub;
  readonly log: Logger;
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
  const kv = deps.kv ?? await openKv({ path: config.kvPath });
  const market = createSimulatedMarket({ seed: config.marketSeed, now });
  const known = new Set(market.symbols);
  let latest: PriceBoard | null = await readBoard(kv);

  function resolveChannel(channel: string): ChannelResolution {
    const symbol = symbolOfChannel(channel);
    if (symbol === undefined) {
      return { ok: false, message: `Cannot subscribe to ${channel}: unknown channel namespace` };
    }
    if (!known.has(symbol)) {
      return { ok: false, message: `Cannot subscribe to ${channel}: unknown symbol ${symbol}` };
    }
    return { ok: true, snapshot: () => latest?.quotes[symbol] };
  }

  const hub = new Hub({ serverId: isolateId, channels: resolveChannel, now });
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
  });

  let firstBoard: () => void = () => {};
  const firstBoardSeen = new Promise<void>((resolve) => firstBoard = resolve);
  const watcher = (async () => {
    try {
      for await (const board of watchBoard(kv, stop.signal)) {
        if (latest && board.seq <= latest.seq) continue;
        const changed = changedQuotes(latest, board);
        latest = board;
        firstBoard();
        for (const quote of changed) hub.publish(priceChannel(quote.symbol), quote);
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

  let closed: Promise<void> | undefined;
  return {
    config,
    kv,
    hub,
    log,
    isolateId,
    startedAt: now(),
    board: () => latest,
    close() {
      closed ??= (async () => {
        stop.abort();
        await producer;
        await watcher;
        if (!deps.kv) kv.close();
      })();
      return closed;
    },
  };
}
