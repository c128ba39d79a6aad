/**
 * Wallet alerts (docs/ALERTS.md): {@linkcode WalletAlerts.onWalletEvent} takes a
 * {@linkcode WalletAlertEvent} from the wallet monitor (or from the `wallet:{address}` bus
 * messages through {@linkcode walletEventsFromMessage}) and commits a job of the queue
 * `alert-wallet`, idempotent by the event's key — every isolate may report the same event,
 * one job runs. The job finds the rules of the address (`["alert_addr", address]`) and, for
 * each matching one, commits in one atomic: the rule's new state (checked), the marker
 * `["alert_event", ruleId, eventKey]` (checked absent: an event applies to a rule once) and
 * the firing in the outbox; then hands the firing to delivery (outbox.ts).
 *
 * @module
 */
import type { BusMessage } from "../bus/engine.ts";
import {
  createJobQueue,
  type Job,
  type JobBackend,
  type JobLog,
  type JobStats,
} from "../bus/jobs.ts";
import { alertAddressPrefix, alertEventKey, alertOutboxKey, alertRuleKey } from "../kv/keys.ts";
import type { NotifierJobOptions } from "../notifications/delivery.ts";
import { newId } from "../notifications/ids.ts";
import type { NotificationInput } from "../notifications/types.ts";
import type { ActivityItem, ReorgMessage, WalletMessage } from "../wallet/types.ts";
import { isLive, type StoredRule } from "./evaluate.ts";
import { handOver, type NotifyFn } from "./outbox.ts";
import type { WalletAlertEvent, WalletCondition } from "./types.ts";

/** The queue of wallet events. */
export const WALLET_ALERT_QUEUE = "alert-wallet";
const EVENT_MARKER_TTL_MS = 24 * 60 * 60 * 1000;
const MAX_TRIES = 20;

/** The key an event is applied once by. */
export function walletEventKey(event: WalletAlertEvent): string {
  if (event.id) return event.id;
  switch (event.kind) {
    case "incoming_transfer":
      return `in:${event.address}:${
        event.itemId ?? `${event.txHash}:${event.asset}:${event.amount}`
      }`;
    case "tx_status":
      return `tx:${event.address}:${event.txHash}:${event.status}`;
    case "reorg":
      return `reorg:${event.address}:${event.fromBlock ?? "?"}:${event.depth}`;
  }
}

function same(a: string, b: string | undefined): boolean {
  return b !== undefined && a.toLowerCase() === b.toLowerCase();
}

/** Whether `event` meets `condition`. */
export function walletMatches(condition: WalletCondition, event: WalletAlertEvent): boolean {
  if (condition.kind !== event.kind || condition.address !== event.address) return false;
  switch (condition.kind) {
    case "incoming_transfer": {
      const e = event as Extract<WalletAlertEvent, { kind: "incoming_transfer" }>;
      const amount = Number(e.amount);
      if (!Number.isFinite(amount) || amount < condition.minAmount) return false;
      return condition.asset === undefined || same(condition.asset, e.asset) ||
        same(condition.asset, e.token);
    }
    case "tx_status":
      return condition.status ===
        (event as Extract<WalletAlertEvent, { kind: "tx_status" }>).status;
    case "reorg":
      return true;
  }
}

function short(hex: string): string {
  return hex.length > 12 ? `${hex.slice(0, 6)}…${hex.slice(-4)}` : hex;
}

/** The notification of a wallet rule's firing. */
export function walletNotification(
  rule: StoredRule,
  event: WalletAlertEvent,
  key: string,
): NotificationInput {
  let title: string;
  let body: string;
  const data: Record<string, unknown> = {
    ruleId: rule.id,
    kind: event.kind,
    address: event.address,
  };
  switch (event.kind) {
    case "incoming_transfer":
      title = `Received ${event.amount} ${event.asset}`;
      body = `To ${short(event.address)} in ${short(event.txHash)}`;
      Object.assign(data, { amount: event.amount, asset: event.asset, txHash: event.txHash });
      break;
    case "tx_status":
      title = `Transaction ${event.status}`;
      body = `${short(event.txHash)} of ${short(event.address)}`;
      Object.assign(data, { txHash: event.txHash, status: event.status });
      break;
    case "reorg":
      title = `Reorg of ${event.depth} block${event.depth === 1 ? "" : "s"}`;
      body = `It touched ${short(event.address)}`;
      data.depth = event.depth;
      break;
  }
  if (rule.name) body += ` · ${rule.name}`;
  const input: NotificationInput = {
    userId: rule.userId,
    category: "wallet",
    priority: rule.priority,
    title,
    body,
    data,
    groupKey: `alert:${rule.id}`,
    idempotencyKey: `alert:${rule.id}:${key}`.slice(0, 200),
  };
  const link = event.link ?? `/wallet?address=${event.address}`;
  if (/^\/(?![/\\])[^\s\\]*$/.test(link) && link.length <= 512) input.link = link;
  return input;
}

const TX_STATUSES = new Set(["confirmed", "failed", "replaced"]);

function activityLink(address: string, txHash: string): string {
  return `/wallet?address=${address}&tx=${txHash}`;
}

/**
 * The alert events a `wallet:{address}` message stands for: an incoming transfer once it
 * is in a block (`included` or `confirmed`; keyed by the item, so once), a transaction
 * reaching `confirmed` / `failed` / `replaced`, a reorg.
 */
export function walletEventsFromMessage(
  message: BusMessage,
  nativeSymbol = "ETH",
): WalletAlertEvent[] {
  if (!message.channel.startsWith("wallet:")) return [];
  const address = message.channel.slice("wallet:".length);
  const m = message.data as WalletMessage | null;
  if (!m || typeof m !== "object") return [];
  if (m.type === "reorg") {
    const r = m as ReorgMessage;
    return typeof r.depth === "number"
      ? [{ kind: "reorg", address, depth: r.depth, fromBlock: r.from }]
      : [];
  }
  if (m.type !== "item" || !m.item || typeof m.item !== "object") return [];
  const item: ActivityItem = m.item;
  if (typeof item.txHash !== "string") return [];
  const events: WalletAlertEvent[] = [];
  const link = activityLink(address, item.txHash);
  if (
    item.direction === "in" && (item.status === "included" || item.status === "confirmed") &&
    typeof item.amount === "string" && item.kind !== "erc721"
  ) {
    events.push({
      kind: "incoming_transfer",
      address,
      amount: item.amount,
      asset: item.kind === "native"
        ? nativeSymbol
        : item.token?.symbol ?? item.token?.address ?? "?",
      ...(item.token ? { token: item.token.address } : {}),
      txHash: item.txHash,
      itemId: item.id,
      link,
    });
  }
  if (TX_STATUSES.has(item.status)) {
    events.push({
      kind: "tx_status",
      address,
      txHash: item.txHash,
      status: item.status as "confirmed" | "failed" | "replaced",
      link,
    });
  }
  return events;
}

/** Options of {@linkcode createWalletAlerts}. */
export interface WalletAlertsOptions {
  kv: Deno.Kv;
  notify: NotifyFn;
  remote?: boolean;
  backend?: "auto" | JobBackend;
  holder?: string;
  now?: () => number;
  log?: JobLog;
  jobs?: NotifierJobOptions;
  /** The chain's native asset (`CHAIN_NATIVE_SYMBOL`). Default `ETH`. */
  nativeSymbol?: string;
}

/** Counters of this isolate. */
export interface WalletAlertStats {
  events: number;
  firings: number;
  suppressed: number;
  queue: JobStats;
}

/** Wallet alerts (see the module comment). */
export interface WalletAlerts {
  /** Commits the event's job (idempotent by its key); call it from the wallet monitor. */
  onWalletEvent(event: WalletAlertEvent): Promise<{ id: string; duplicate: boolean }>;
  /** Feed every bus message: `wallet:*` ones become events. */
  onBusMessage(message: BusMessage): void;
  start(signal?: AbortSignal): void;
  stop(): Promise<void>;
  stats(): WalletAlertStats;
}

/** Creates the wallet alerts; call `start()` to apply events in this isolate. */
export async function createWalletAlerts(options: WalletAlertsOptions): Promise<WalletAlerts> {
  const { kv, notify } = options;
  const now = options.now ?? Date.now;
  const log = options.log ?? { warn: console.warn, error: console.error };
  const counters = { events: 0, firings: 0, suppressed: 0 };

  /** Applies `event` to one rule; the firing (if any) to hand over. */
  async function applyTo(
    userId: string,
    ruleId: string,
    event: WalletAlertEvent,
    key: string,
  ): Promise<{ key: Deno.KvKey; input: NotificationInput } | null> {
    for (let i = 0; i < MAX_TRIES; i++) {
      const t = now();
      const [entry, marker] = await kv.getMany<[StoredRule, number]>([
        alertRuleKey(userId, ruleId),
        alertEventKey(ruleId, key),
      ]);
      const rule = entry.value;
      if (!rule || marker.value !== null) return null;
      if (!isLive(rule, t) || !walletMatches(rule.condition as WalletCondition, event)) return null;
      const cooling = rule.trigger.mode === "every" && rule.lastFiredAt !== undefined &&
        t < rule.lastFiredAt + rule.trigger.cooldownMs;
      const op = kv.atomic().check(entry).check(marker)
        .set(alertEventKey(ruleId, key), t, { expireIn: EVENT_MARKER_TTL_MS });
      let firing: { key: Deno.KvKey; input: NotificationInput } | null = null;
      if (!cooling) {
        const next: StoredRule = {
          ...rule,
          lastFiredAt: t,
          firedCount: rule.firedCount + 1,
          enabled: rule.trigger.mode === "once" ? false : rule.enabled,
        };
        firing = { key: alertOutboxKey(newId(t)), input: walletNotification(next, event, key) };
        op.set(alertRuleKey(userId, ruleId), next).set(firing.key, firing.input);
      }
      if (!(await op.commit()).ok) continue;
      if (cooling) counters.suppressed++;
      else counters.firings++;
      return firing;
    }
    throw new Error(`Cannot apply the wallet event to rule ${ruleId}: it kept changing`);
  }

  async function handle(job: Job<WalletAlertEvent>): Promise<void> {
    const event = job.payload;
    const key = walletEventKey(event);
    const firings: { key: Deno.KvKey; input: NotificationInput }[] = [];
    for await (
      const e of kv.list({ prefix: alertAddressPrefix(event.address) }, { limit: 1_000 })
    ) {
      const firing = await applyTo(String(e.key[2]), String(e.key[3]), event, key);
      if (firing) firings.push(firing);
    }
    const h = await handOver(kv, notify, firings);
    if (h.failed > 0) throw new Error(`Cannot enqueue ${h.failed} wallet alert notifications`);
  }

  const queue = await createJobQueue<WalletAlertEvent>({
    kv,
    name: WALLET_ALERT_QUEUE,
    remote: options.remote,
    backend: options.backend,
    holder: options.holder,
    now,
    log,
    claimTtlMs: 5_000,
    leaseTtlMs: 5_000,
    sweepIntervalMs: 5_000,
    sweepGraceMs: 15_000,
    ...options.jobs,
    handler: handle,
  });

  function onWalletEvent(event: WalletAlertEvent) {
    counters.events++;
    return queue.enqueue(event, { idempotencyKey: walletEventKey(event).slice(0, 300) });
  }

  return {
    onWalletEvent,
    onBusMessage(message) {
      for (const event of walletEventsFromMessage(message, options.nativeSymbol)) {
        onWalletEvent(event).catch((err) =>
          log.warn("Cannot enqueue a wallet alert event", { channel: message.channel, err })
        );
      }
    },
    start: (signal) => queue.start(signal),
    stop: () => queue.stop(),
    stats: () => ({ ...counters, queue: queue.stats() }),
  };
}
