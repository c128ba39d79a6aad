/**
 * The offline price source (`PRICE_SOURCES=simulated`): three simulated venues over one
 * seeded random walk (lib/prices/simulated.ts), each a {@linkcode VenueFeed} with its own
 * small price offset, latency and trade flow, and its own mishaps: a price a few percent
 * off for a while (an outlier), an outage of some seconds (disconnected), a symbol that
 * goes quiet. So `deno task start` with no network shows every cue the aggregator has.
 *
 * Deterministic: the same seed and the same clock readings at each {@linkcode
 * SimulatedVenues.step} give the same events. Without `manual`, a timer steps every
 * `stepMs` while any of the feeds runs.
 */
import { gaussian, seededRandom } from "./random.ts";
import { createSimulatedMarket, DEFAULT_ASSETS, type SimulatedAsset } from "./simulated.ts";
import type { Quote } from "./types.ts";
import type { VenueEvent, VenueFeed, VenueHealth, VenueTicker } from "./venues/types.ts";

/** How one simulated venue behaves. */
export interface SimVenueProfile {
  venue: string;
  /** Constant offset of its prices from the walk, percent. */
  offsetPct: number;
  /** Mean delivery latency, ms (each event: 0.5–1.5 × this). */
  latencyMs: number;
  /** Mean trades per second per symbol. */
  tradesPerSecond: number;
  /** A ticker per symbol this often, ms. */
  tickerEveryMs: number;
  /** Its share of each asset's daily volume. */
  volumeShare: number;
  /** Quotes in USDT standing in for USD. */
  usdProxy: boolean;
}

/** The three venues of `simulated`. */
export const SIM_VENUE_PROFILES: readonly SimVenueProfile[] = [
  {
    venue: "sim-a",
    offsetPct: 0,
    latencyMs: 30,
    tradesPerSecond: 1.5,
    tickerEveryMs: 1_000,
    volumeShare: 0.45,
    usdProxy: false,
  },
  {
    venue: "sim-b",
    offsetPct: 0.03,
    latencyMs: 80,
    tradesPerSecond: 1,
    tickerEveryMs: 1_500,
    volumeShare: 0.35,
    usdProxy: false,
  },
  {
    venue: "sim-c",
    offsetPct: -0.02,
    latencyMs: 150,
    tradesPerSecond: 0.6,
    tickerEveryMs: 2_000,
    volumeShare: 0.2,
    usdProxy: true,
  },
];

/** How often things go wrong (mean time between two mishaps of one venue; 0 = never). */
export interface SimChaos {
  outageEveryMs: number;
  /** Outage length range, ms. */
  outageMs: [number, number];
  outlierEveryMs: number;
  outlierMs: [number, number];
  /** How far off an outlier is, percent (either direction). */
  outlierPct: [number, number];
  quietEveryMs: number;
  quietMs: [number, number];
  /** A quiet symbol is reported stale (reason `quiet`) after this long, as an adapter does. */
  quietNoticeMs: number;
}

/**
 * The default mishaps, per venue: over the three venues an outage every ~3 min, an
 * outlier every ~2 min and a quiet symbol every ~80 s, so each cue shows within minutes.
 */
export const DEFAULT_SIM_CHAOS: SimChaos = {
  outageEveryMs: 600_000,
  outageMs: [5_000, 15_000],
  outlierEveryMs: 300_000,
  outlierMs: [10_000, 30_000],
  outlierPct: [2, 5],
  quietEveryMs: 240_000,
  quietMs: [15_000, 40_000],
  quietNoticeMs: 12_000,
};

/** Assets beyond {@linkcode DEFAULT_ASSETS}, so every known pair can be simulated. */
export const EXTRA_SIM_ASSETS: readonly SimulatedAsset[] = [
  { symbol: "LTC-USD", price: 80, volatility: 0.045, volume: 700_000 },
  { symbol: "BCH-USD", price: 450, volatility: 0.05, volume: 150_000 },
  { symbol: "ATOM-USD", price: 8, volatility: 0.055, volume: 9_000_000 },
  { symbol: "UNI-USD", price: 9, volatility: 0.06, volume: 6_000_000 },
  { symbol: "XLM-USD", price: 0.11, volatility: 0.05, volume: 400_000_000 },
  { symbol: "AAVE-USD", price: 150, volatility: 0.06, volume: 200_000 },
];

/** Options for {@linkcode createSimulatedVenues}. */
export interface SimulatedVenuesOptions {
  /** Canonical symbols; each must be simulated ({@linkcode DEFAULT_ASSETS} and extras). */
  symbols: readonly string[];
  /** Seed (`MARKET_SEED`). Default 1. */
  seed?: number;
  /** Clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Receives every event, in delivery order. */
  onEvent: (event: VenueEvent) => void;
  /** Step interval of the timer, ms. Default 250. */
  stepMs?: number;
  /** No timer: the caller calls {@linkcode SimulatedVenues.step} (tests). */
  manual?: boolean;
  chaos?: Partial<SimChaos>;
  profiles?: readonly SimVenueProfile[];
}

/** The simulated venues. */
export interface SimulatedVenues {
  /** One feed per venue. */
  readonly feeds: readonly VenueFeed[];
  /** Advances the walk to `now()`, applies mishaps, and delivers the events that are due. */
  step(): void;
  /** Continues the walk from stored quotes (a new lease holder). */
  restore(quotes: readonly Quote[]): void;
  /** Forces an outage of `venue` for `ms`. */
  outage(venue: string, ms: number): void;
  /** Forces `venue`'s `symbol` `pct` percent off for `ms`. */
  outlier(venue: string, symbol: string, pct: number, ms: number): void;
  /** Forces `venue`'s `symbol` quiet for `ms`. */
  quiet(venue: string, symbol: string, ms: number): void;
}

interface Pending {
  deliverAt: number;
  seq: number;
  /** The venue's connection epoch when sent: a reconnect drops what was in flight. */
  epoch: number;
  event: VenueTicker | Extract<VenueEvent, { kind: "trade" }>;
}

interface SimVenue {
  profile: SimVenueProfile;
  running: boolean;
  connected: boolean;
  epoch: number;
  outageUntil: number;
  reconnects: number;
  messages: number;
  lastMessageAt: number | null;
  tradeSeq: number;
  lastTickerAt: Map<string, number>;
  lastTrade: Map<string, number>;
  outliers: Map<string, { factor: number; until: number }>;
  quiet: Map<string, { since: number; until: number; noticed: boolean }>;
}

function chance(random: () => number, dtMs: number, everyMs: number): boolean {
  return everyMs > 0 && random() < 1 - Math.exp(-dtMs / everyMs);
}

function between(random: () => number, [lo, hi]: [number, number]): number {
  return lo + (hi - lo) * random();
}

function roundPrice(price: number): number {
  const digits = price >= 1000 ? 2 : price >= 1 ? 4 : 6;
  const f = 10 ** digits;
  return Math.round(price * f) / f;
}

/** Creates the simulated venues (not started: start each feed). */
export function createSimulatedVenues(options: SimulatedVenuesOptions): SimulatedVenues {
  const now = options.now ?? Date.now;
  const seed = options.seed ?? 1;
  const stepMs = options.stepMs ?? 250;
  const chaos: SimChaos = { ...DEFAULT_SIM_CHAOS, ...options.chaos };
  const profiles = options.profiles ?? SIM_VENUE_PROFILES;
  const catalogue = new Map([...DEFAULT_ASSETS, ...EXTRA_SIM_ASSETS].map((a) => [a.symbol, a]));
  const assets = options.symbols.map((symbol) => {
    const asset = catalogue.get(symbol);
    if (!asset) throw new Error(`Cannot simulate ${symbol.slice(0, 40)}: no simulated asset`);
    return asset;
  });
  const symbols = assets.map((a) => a.symbol);
  const market = createSimulatedMarket({ seed, now, assets, moveRatio: 1 });
  const walk = new Map(market.snapshot().map((q) => [q.symbol, q]));
  const extremes = new Map(
    assets.map((
      a,
    ) => [a.symbol, {
      high: a.price * (1 + a.volatility / 2),
      low: a.price * (1 - a.volatility / 2),
    }]),
  );
  const random = seededRandom((seed ^ 0x5eed_cafe) >>> 0);
  const queue: Pending[] = [];
  let seq = 0;
  let lastStep: number | null = null;
  let timer: ReturnType<typeof setInterval> | undefined;

  const venues = profiles.map((profile): SimVenue => ({
    profile,
    running: false,
    connected: false,
    epoch: 0,
    outageUntil: 0,
    reconnects: 0,
    messages: 0,
    lastMessageAt: null,
    tradeSeq: 0,
    lastTickerAt: new Map(),
    lastTrade: new Map(),
    outliers: new Map(),
    quiet: new Map(),
  }));
  const byName = new Map(venues.map((v) => [v.profile.venue, v]));

  function emit(event: VenueEvent): void {
    try {
      options.onEvent(event);
    } catch {
      // The consumer's failure must not stop the simulation.
    }
  }

  function enqueue(v: SimVenue, event: Pending["event"], sentAt: number): void {
    const deliverAt = sentAt + v.profile.latencyMs * (0.5 + random());
    const item = { deliverAt, seq: seq++, epoch: v.epoch, event };
    let i = queue.length;
    while (i > 0 && queue[i - 1].deliverAt > deliverAt) i--;
    queue.splice(i, 0, item);
  }

  function venuePrice(v: SimVenue, symbol: string): number {
    const base = walk.get(symbol)!.price * (1 + v.profile.offsetPct / 100);
    return base * (v.outliers.get(symbol)?.factor ?? 1);
  }

  function sendTicker(v: SimVenue, symbol: string, t: number): void {
    const w = walk.get(symbol)!;
    const price = v.lastTrade.get(symbol) ?? roundPrice(venuePrice(v, symbol));
    const spread = price * 0.0002;
    const factor = (1 + v.profile.offsetPct / 100) * (v.outliers.get(symbol)?.factor ?? 1);
    const ext = extremes.get(symbol)!;
    v.lastTickerAt.set(symbol, t);
    enqueue(v, {
      kind: "ticker",
      venue: v.profile.venue,
      symbol,
      price,
      bid: roundPrice(price - spread / 2),
      ask: roundPrice(price + spread / 2),
      open24h: roundPrice(w.open24h * factor),
      high24h: roundPrice(Math.max(ext.high, price)),
      low24h: roundPrice(Math.min(ext.low, price)),
      volume24h: Math.round(w.volume24h * v.profile.volumeShare * 100) / 100,
      ts: t,
      receivedAt: t,
      usdProxy: v.profile.usdProxy,
    }, t);
  }

  function connect(v: SimVenue, t: number): void {
    v.connected = true;
    v.epoch++;
    emit({ kind: "connection", venue: v.profile.venue, connected: true, at: t });
    for (const symbol of symbols) if (!v.quiet.has(symbol)) sendTicker(v, symbol, t);
  }

  function disconnect(v: SimVenue, t: number, reason: string): void {
    if (!v.connected) return;
    v.connected = false;
    v.epoch++;
    emit({ kind: "connection", venue: v.profile.venue, connected: false, reason, at: t });
  }

  function startOutage(v: SimVenue, t: number, ms: number): void {
    v.outageUntil = t + ms;
    disconnect(v, t, "simulated outage");
  }

  function startQuiet(v: SimVenue, symbol: string, t: number, ms: number): void {
    v.quiet.set(symbol, { since: t, until: t + ms, noticed: false });
  }

  function mishaps(v: SimVenue, t: number, dt: number): void {
    if (!v.connected) {
      if (t >= v.outageUntil) {
        v.reconnects++;
        connect(v, t);
      }
      return;
    }
    if (chance(random, dt, chaos.outageEveryMs)) {
      startOutage(v, t, between(random, chaos.outageMs));
      return;
    }
    for (const [symbol, o] of v.outliers) {
      if (t < o.until) continue;
      v.outliers.delete(symbol);
      v.lastTrade.delete(symbol);
    }
    if (chance(random, dt, chaos.outlierEveryMs)) {
      const symbol = symbols[Math.floor(random() * symbols.length)];
      const pct = between(random, chaos.outlierPct) * (random() < 0.5 ? -1 : 1);
      v.outliers.set(symbol, {
        factor: 1 + pct / 100,
        until: t + between(random, chaos.outlierMs),
      });
      v.lastTrade.delete(symbol);
    }
    for (const [symbol, q] of v.quiet) {
      if (t >= q.until) {
        v.quiet.delete(symbol);
        if (q.noticed) {
          emit({
            kind: "symbol",
            venue: v.profile.venue,
            symbol,
            state: "fresh",
            reason: "resumed",
            at: t,
          });
        }
        sendTicker(v, symbol, t);
      } else if (!q.noticed && t - q.since >= chaos.quietNoticeMs) {
        q.noticed = true;
        emit({
          kind: "symbol",
          venue: v.profile.venue,
          symbol,
          state: "stale",
          reason: "quiet",
          at: t,
        });
      }
    }
    if (chance(random, dt, chaos.quietEveryMs)) {
      const symbol = symbols[Math.floor(random() * symbols.length)];
      if (!v.quiet.has(symbol)) startQuiet(v, symbol, t, between(random, chaos.quietMs));
    }
  }

  function flow(v: SimVenue, t: number, from: number): void {
    const dt = t - from;
    for (const asset of assets) {
      const { symbol } = asset;
      if (v.quiet.has(symbol)) continue;
      const base = venuePrice(v, symbol);
      const expected = (v.profile.tradesPerSecond * dt) / 1000;
      const n = Math.floor(expected + random());
      const avgSize = (asset.volume * v.profile.volumeShare) / 86_400 / v.profile.tradesPerSecond;
      const times = Array.from({ length: n }, () => from + random() * dt).sort((a, b) => a - b);
      for (const ts of times) {
        const price = roundPrice(base * (1 + gaussian(random) * 0.00005));
        const size = Math.max(1e-8, Math.round(avgSize * (0.2 + 1.6 * random()) * 1e8) / 1e8);
        v.lastTrade.set(symbol, price);
        const ext = extremes.get(symbol)!;
        if (!v.outliers.has(symbol)) {
          ext.high = Math.max(ext.high, price);
          ext.low = Math.min(ext.low, price);
        }
        enqueue(v, {
          kind: "trade",
          venue: v.profile.venue,
          symbol,
          price,
          size,
          side: random() < 0.5 ? "buy" : "sell",
          tradeId: String(++v.tradeSeq),
          ts: Math.round(ts),
          receivedAt: Math.round(ts),
          usdProxy: v.profile.usdProxy,
        }, ts);
      }
      if (t - (v.lastTickerAt.get(symbol) ?? -Infinity) >= v.profile.tickerEveryMs) {
        sendTicker(v, symbol, t);
      }
    }
  }

  function deliver(t: number): void {
    while (queue.length > 0 && queue[0].deliverAt <= t) {
      const item = queue.shift()!;
      const v = byName.get(item.event.venue)!;
      if (!v.connected || item.epoch !== v.epoch || v.quiet.has(item.event.symbol)) continue;
      const at = Math.round(item.deliverAt);
      v.messages++;
      v.lastMessageAt = at;
      emit({ ...item.event, receivedAt: at });
    }
  }

  function step(): void {
    const t = now();
    if (lastStep === null) lastStep = t;
    const dt = Math.min(Math.max(0, t - lastStep), 5_000);
    const from = t - dt;
    if (dt > 0) {
      for (const q of market.tick(dt)) walk.set(q.symbol, q);
      for (const v of venues) {
        if (!v.running) continue;
        mishaps(v, t, dt);
        if (v.connected) flow(v, t, from);
      }
    }
    lastStep = t;
    deliver(t);
  }

  function syncTimer(): void {
    const any = venues.some((v) => v.running);
    if (any && !timer && !options.manual) timer = setInterval(step, stepMs);
    if (!any && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  }

  function health(v: SimVenue): VenueHealth {
    return {
      venue: v.profile.venue,
      connected: v.connected,
      lastMessageAt: v.lastMessageAt,
      reconnects: v.reconnects,
      gaps: 0,
      malformed: 0,
      messages: v.messages,
      symbols: [...symbols],
      staleSymbols: v.connected ? symbols.filter((s) => v.quiet.get(s)?.noticed) : [...symbols],
      usdProxy: v.profile.usdProxy,
    };
  }

  const feeds: VenueFeed[] = venues.map((v) => ({
    venue: v.profile.venue,
    start() {
      if (v.running) return;
      v.running = true;
      if (now() >= v.outageUntil) connect(v, now());
      syncTimer();
    },
    stop() {
      if (v.running) {
        v.running = false;
        disconnect(v, now(), "stopped");
        syncTimer();
      }
      return Promise.resolve();
    },
    health: () => health(v),
  }));

  function venue(name: string): SimVenue {
    const v = byName.get(name);
    if (!v) throw new Error(`Cannot find simulated venue "${name.slice(0, 40)}"`);
    return v;
  }

  return {
    feeds,
    step,
    restore(quotes) {
      market.restore(quotes.filter((q) => walk.has(q.symbol)));
      for (const q of market.snapshot()) walk.set(q.symbol, q);
    },
    outage(name, ms) {
      startOutage(venue(name), now(), ms);
    },
    outlier(name, symbol, pct, ms) {
      const v = venue(name);
      v.outliers.set(symbol, { factor: 1 + pct / 100, until: now() + ms });
      v.lastTrade.delete(symbol);
    },
    quiet(name, symbol, ms) {
      startQuiet(venue(name), symbol, now(), ms);
    },
  };
}
