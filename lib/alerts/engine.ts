/**
 * The price-alert engine (docs/ALERTS.md). Every isolate runs it; the one holding the KV
 * lease `alerts` evaluates. It keeps every enabled price rule in memory, indexed by
 * symbol, and evaluates the symbol's rules on **every** aggregated quote as it arrives on
 * the bus (`prices:{SYMBOL}`), synchronously, so no quote is skipped however fast they
 * come. What changed is committed in batches, each rule's new state checked against the
 * versionstamp it was loaded with, and each firing written to the outbox **in the same
 * commit** (outbox.ts), then handed to durable delivery:
 *
 * - a crash before the commit: nothing happened; the next holder loads the old state and
 *   the next quote fires again;
 * - a crash after it: the state says fired, the outbox holds the firing; the next holder
 *   hands it over (the delivery is idempotent by `alert:{ruleId}:{firedCount}`);
 * - two holders at once (a stalled one that lost the lease): only the first commit of a
 *   rule's state passes its check; the other reloads the rule and drops its firing.
 *
 * Rule changes (HTTP, any isolate) mark the user dirty; the holder reloads that user's
 * rules every `intervalMs` (the stored version wins over unsaved state).
 *
 * @module
 */
import type { BusMessage } from "../bus/engine.ts";
import {
  alertDirtyPrefix,
  alertOutboxKey,
  alertRuleKey,
  alertRulePrefix,
  alertRuleRoot,
} from "../kv/keys.ts";
import { newId } from "../notifications/ids.ts";
import type { NotificationInput } from "../notifications/types.ts";
import { readCandles } from "../prices/candles.ts";
import { runUnderLease } from "../prices/producer.ts";
import type { Leases } from "../kv/lease.ts";
import { priceChannel, type Quote, symbolOfChannel } from "../prices/types.ts";
import { evaluatePrice, isLive, type PriceInput, type StoredRule } from "./evaluate.ts";
import { PriceHistory } from "./history.ts";
import { drainOutbox, handOver, type NotifyFn } from "./outbox.ts";
import { isPriceCondition } from "./schema.ts";
import type { PriceCondition } from "./types.ts";

/** The lease that elects the evaluating isolate. */
export const ALERTS_LEASE = "alerts";

/** Rules per commit at most (each adds a check; KV allows 100). */
const COMMIT_BATCH = 40;
/** Firings kept per rule between two commits at most (more are dropped and counted). */
const MAX_PENDING_FIRINGS = 10;

/** Where the engine logs. */
export interface EngineLog {
  info?(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** Options of {@linkcode startAlertEngine}. */
export interface AlertEngineOptions {
  kv: Deno.Kv;
  /** Where the `alerts` lease lives (the cluster's engine). Default: KV leases on `kv`. */
  leases?: Leases;
  /** Unique id of this isolate. */
  holder: string;
  /** Stops the engine (and releases the lease). */
  signal: AbortSignal;
  /** Durable delivery (`Notifier.notify`). */
  notify: NotifyFn;
  now?: () => number;
  log?: EngineLog;
  /** Lease renewal and rule reload period, ms. Default 250. */
  intervalMs?: number;
  /** Lease time to live, ms. Default 2 000. */
  leaseTtlMs?: number;
  /** How often the holder drains the outbox, ms. Default 5 000. */
  outboxEveryMs?: number;
  /** Seed the 5 m / 1 h history from stored candles on winning the lease. Default true. */
  seedFromCandles?: boolean;
  onLeaseChange?: (holding: boolean) => void;
}

/** Counters of this isolate's engine. */
export interface AlertEngineStats {
  holding: boolean;
  /** Price rules in memory. */
  rules: number;
  quotes: number;
  /** Rule evaluations (rules × quotes). */
  evaluations: number;
  firings: number;
  /** Firings consumed by a cooldown. */
  suppressed: number;
  /** Commits of rule state (batches). */
  commits: number;
  /** Rule commits refused because the rule changed meanwhile (it was reloaded). */
  conflicts: number;
  /** Firings dropped: too many pending for one rule, or the rule changed meanwhile. */
  dropped: number;
  /** Notifications handed to delivery. */
  handed: number;
  /** User reloads after rule changes. */
  reloads: number;
}

/** A running engine. */
export interface AlertEngine {
  /** Feed every aggregated quote (only the lease holder evaluates). */
  onQuote(quote: Quote): void;
  /** Feed every bus message: `prices:*` ones go to {@linkcode AlertEngine.onQuote}. */
  onBusMessage(message: BusMessage): void;
  stats(): AlertEngineStats;
  /** Resolves once pending commits and hand-overs are done. */
  idle(): Promise<void>;
  /** Resolves once the engine stopped (after `signal` aborted). */
  readonly done: Promise<void>;
}

interface Live {
  rule: StoredRule;
  versionstamp: string;
}

const WINDOWS = { "5m": 5 * 60_000, "1h": 60 * 60_000 } as const;

function formatNumber(n: number): string {
  const digits = Math.abs(n) >= 1_000 ? 2 : Math.abs(n) >= 1 ? 4 : 8;
  return n.toLocaleString("en-US", { maximumFractionDigits: digits });
}

/** The notification of a price rule's firing. */
export function priceNotification(
  rule: StoredRule,
  quote: Quote,
  value: number,
): NotificationInput {
  const c = rule.condition as PriceCondition;
  const s = c.symbol;
  let title: string;
  const data: Record<string, unknown> = {
    ruleId: rule.id,
    kind: c.kind,
    symbol: s,
    price: quote.price,
  };
  switch (c.kind) {
    case "crosses_above":
      title = `${s} crossed above ${formatNumber(c.level)}`;
      data.level = c.level;
      break;
    case "crosses_below":
      title = `${s} crossed below ${formatNumber(c.level)}`;
      data.level = c.level;
      break;
    case "above":
      title = `${s} is above ${formatNumber(c.level)}`;
      data.level = c.level;
      break;
    case "below":
      title = `${s} is below ${formatNumber(c.level)}`;
      data.level = c.level;
      break;
    case "change_pct":
      title = `${s} ${value >= 0 ? "rose" : "fell"} ${Math.abs(value).toFixed(2)} % in ${c.window}`;
      data.window = c.window;
      data.pct = c.pct;
      data.change = Math.round(value * 100) / 100;
      break;
  }
  const name = rule.name ? ` · ${rule.name}` : "";
  return {
    userId: rule.userId,
    category: "price_alert",
    priority: rule.priority,
    title,
    body: `Price ${formatNumber(quote.price)}${name}`,
    data,
    link: `/markets/${encodeURIComponent(s)}`,
    groupKey: `alert:${rule.id}`,
    idempotencyKey: `alert:${rule.id}:${rule.firedCount}`,
  };
}

/** Starts the engine in this isolate (see the module comment). */
export function startAlertEngine(options: AlertEngineOptions): AlertEngine {
  const { kv, notify } = options;
  const now = options.now ?? Date.now;
  const log = options.log ?? { warn: (msg, fields) => console.warn(msg, fields ?? {}) };
  const intervalMs = options.intervalMs ?? 250;
  const outboxEveryMs = options.outboxEveryMs ?? 5_000;
  const history = new PriceHistory();
  const rules = new Map<string, Live>();
  const bySymbol = new Map<string, Set<string>>();
  const byUser = new Map<string, Set<string>>();
  /** Rules whose in-memory state is not committed yet, with their firings. */
  const dirty = new Map<string, NotificationInput[]>();
  let holding = false;
  let flushing: Promise<void> | null = null;
  let lastDrain = -Infinity;
  const stats: AlertEngineStats = {
    holding: false,
    rules: 0,
    quotes: 0,
    evaluations: 0,
    firings: 0,
    suppressed: 0,
    commits: 0,
    conflicts: 0,
    dropped: 0,
    handed: 0,
    reloads: 0,
  };

  function index(rule: StoredRule, versionstamp: string): void {
    unindex(rule.id);
    if (!isPriceCondition(rule.condition) || !rule.enabled) return;
    rules.set(rule.id, { rule, versionstamp });
    const s = rule.condition.symbol;
    if (!bySymbol.has(s)) bySymbol.set(s, new Set());
    bySymbol.get(s)!.add(rule.id);
    if (!byUser.has(rule.userId)) byUser.set(rule.userId, new Set());
    byUser.get(rule.userId)!.add(rule.id);
  }

  function unindex(id: string): void {
    const live = rules.get(id);
    if (!live) return;
    rules.delete(id);
    dirty.delete(id);
    const c = live.rule.condition as PriceCondition;
    bySymbol.get(c.symbol)?.delete(id);
    if (bySymbol.get(c.symbol)?.size === 0) bySymbol.delete(c.symbol);
    byUser.get(live.rule.userId)?.delete(id);
    if (byUser.get(live.rule.userId)?.size === 0) byUser.delete(live.rule.userId);
  }

  function inputOf(quote: Quote, t: number): PriceInput {
    const change: PriceInput["change"] = {};
    if (Number.isFinite(quote.change24hPct)) change["24h"] = quote.change24hPct;
    for (const [w, ms] of Object.entries(WINDOWS) as [keyof typeof WINDOWS, number][]) {
      const v = history.changePct(quote.symbol, ms, t, quote.price);
      if (v !== undefined) change[w] = v;
    }
    return { price: quote.price, change };
  }

  function onQuote(quote: Quote): void {
    if (quote.stale || !(quote.price > 0)) return;
    const t = now();
    if (!holding) {
      history.add(quote.symbol, t, quote.price);
      return;
    }
    stats.quotes++;
    const ids = bySymbol.get(quote.symbol);
    if (ids && ids.size > 0) {
      const input = inputOf(quote, t);
      for (const id of ids) {
        const live = rules.get(id)!;
        const e = evaluatePrice(live.rule, input, t);
        stats.evaluations++;
        if (e.suppressed) stats.suppressed++;
        if (e.rule === live.rule) continue;
        live.rule = e.rule;
        const firings = dirty.get(id) ?? [];
        if (e.fire) {
          stats.firings++;
          if (firings.length < MAX_PENDING_FIRINGS) {
            firings.push(priceNotification(e.rule, quote, e.value ?? quote.price));
          } else stats.dropped++;
        }
        dirty.set(id, firings);
      }
      scheduleFlush();
    }
    history.add(quote.symbol, t, quote.price);
  }

  /**
   * Commits and reloads run one at a time (a reload must not see a commit of ours in
   * flight as somebody else's change).
   */
  let serial: Promise<void> = Promise.resolve();
  function exclusive(task: () => Promise<void>): Promise<void> {
    const next = serial.then(task);
    serial = next.catch(() => {});
    return next;
  }

  function scheduleFlush(): void {
    if (flushing || dirty.size === 0) return;
    flushing = exclusive(flush).catch((err) => log.warn("alert state commit failed", { err }))
      .finally(() => {
        flushing = null;
        if (dirty.size > 0) setTimeout(scheduleFlush, 20);
      });
  }

  async function flush(): Promise<void> {
    while (dirty.size > 0) {
      const batch = [...dirty.entries()].slice(0, COMMIT_BATCH)
        .map(([id, firings]) => ({ id, firings, live: rules.get(id)! }))
        .filter((b) => b.live);
      for (const b of batch) dirty.delete(b.id);
      if (batch.length === 0) continue;
      const ok = await commit(batch);
      if (ok) continue;
      // Someone changed a rule of the batch: commit them one by one, reloading the losers.
      for (const b of batch) {
        if (!(await commit([b]))) await reload(b.id, b.live.rule.userId, b.firings.length);
      }
    }
  }

  /** Commits the rules' current states and their firings; false on a failed check. */
  async function commit(
    batch: { id: string; firings: NotificationInput[]; live: Live }[],
  ): Promise<boolean> {
    const t = now();
    const op = kv.atomic();
    const outbox: { key: Deno.KvKey; input: NotificationInput }[] = [];
    const snapshot = batch.map((b) => b.live.rule);
    batch.forEach((b, i) => {
      const key = alertRuleKey(b.live.rule.userId, b.id);
      op.check({ key, versionstamp: b.live.versionstamp }).set(key, snapshot[i]);
      for (const input of b.firings) {
        const entry = { key: alertOutboxKey(newId(t)), input };
        op.set(entry.key, input);
        outbox.push(entry);
      }
    });
    const result = await op.commit();
    if (!result.ok) return false;
    stats.commits++;
    batch.forEach((b, i) => {
      const live = rules.get(b.id);
      if (!live) return;
      live.versionstamp = result.versionstamp;
      // A `once` rule that fired is disabled now: it leaves memory.
      if (!snapshot[i].enabled) unindex(b.id);
    });
    const h = await handOver(kv, notify, outbox);
    stats.handed += h.handed;
    if (h.refused > 0) log.warn("alert notifications refused by validation", { count: h.refused });
    return true;
  }

  async function reload(id: string, userId: string, lostFirings: number): Promise<void> {
    stats.conflicts++;
    stats.dropped += lostFirings;
    const entry = await kv.get<StoredRule>(alertRuleKey(userId, id));
    if (entry.value && entry.versionstamp) index(entry.value, entry.versionstamp);
    else unindex(id);
  }

  async function reloadDirtyUsers(): Promise<void> {
    for await (const marker of kv.list<number>({ prefix: alertDirtyPrefix() }, { limit: 100 })) {
      const userId = String(marker.key[1]);
      const seen = new Set<string>();
      for await (
        const e of kv.list<StoredRule>({ prefix: alertRulePrefix(userId) }, { limit: 200 })
      ) {
        seen.add(e.value.id);
        const live = rules.get(e.value.id);
        if (live && live.versionstamp === e.versionstamp) continue; // unchanged: keep our state
        index(e.value, e.versionstamp);
      }
      for (const id of [...byUser.get(userId) ?? []]) if (!seen.has(id)) unindex(id);
      await kv.atomic().check(marker).delete(marker.key).commit();
      stats.reloads++;
    }
  }

  async function loadAll(): Promise<void> {
    rules.clear();
    bySymbol.clear();
    byUser.clear();
    dirty.clear();
    for await (const e of kv.list<StoredRule>({ prefix: alertRuleRoot() }, { batchSize: 500 })) {
      if (isLive(e.value, now())) index(e.value, e.versionstamp);
    }
  }

  async function seedHistory(): Promise<void> {
    const symbols = new Set<string>();
    for (const live of rules.values()) {
      const c = live.rule.condition;
      if (c.kind === "change_pct" && c.window !== "24h") symbols.add(c.symbol);
    }
    const t = now();
    for (const symbol of symbols) {
      const range = await readCandles(kv, { symbol, interval: "1m", from: t - 70 * 60_000 }, t);
      history.seed(symbol, range.candles.map((c) => ({ ts: c.t + 59_999, price: c.c })));
    }
  }

  async function drain(): Promise<void> {
    lastDrain = now();
    const h = await drainOutbox(kv, notify);
    stats.handed += h.handed;
    if (h.handed + h.refused > 0) {
      log.info?.("alert outbox drained", { handed: h.handed, refused: h.refused });
    }
  }

  const done = runUnderLease({
    kv,
    leases: options.leases,
    lease: ALERTS_LEASE,
    holder: options.holder,
    intervalMs,
    signal: options.signal,
    leaseTtlMs: options.leaseTtlMs ?? 2_000,
    now,
    onError: (err) => log.warn("alert engine error", { err }),
    onLeaseChange(h) {
      stats.holding = h;
      options.onLeaseChange?.(h);
    },
    async acquired() {
      await loadAll();
      if (options.seedFromCandles ?? true) {
        await seedHistory().catch((err) => log.warn("alert history seed failed", { err }));
      }
      holding = true;
      await drain();
    },
    async tick() {
      await exclusive(reloadDirtyUsers);
      if (now() - lastDrain >= outboxEveryMs) await drain();
    },
    async released() {
      holding = false;
      await flushing;
      rules.clear();
      bySymbol.clear();
      byUser.clear();
      dirty.clear();
    },
  });

  return {
    onQuote,
    onBusMessage(message) {
      const symbol = symbolOfChannel(message.channel);
      if (symbol === undefined || message.channel !== priceChannel(symbol)) return;
      const q = message.data as Quote;
      if (!q || typeof q !== "object" || q.symbol !== symbol || typeof q.price !== "number") return;
      onQuote(q);
    },
    stats: () => ({ ...stats, rules: rules.size, holding }),
    async idle() {
      while (flushing) await flushing;
    },
    done,
  };
}
