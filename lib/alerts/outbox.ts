/**
 * The firing outbox: a firing is written as `["alert_outbox", firingId]` in the same KV
 * commit as its rule's new state, then handed to the notifier (whose job is idempotent by
 * the notification's key) and deleted. If the isolate dies in between, the alert engine's
 * lease holder finds the entry on its next drain (on winning the lease and every few
 * seconds) and hands it over again: a firing is never lost and never delivered twice.
 *
 * @module
 */
import { alertOutboxKey, alertOutboxPrefix } from "../kv/keys.ts";
import type { NotificationInput } from "../notifications/types.ts";

/**
 * Hands notifications to durable delivery (`Notifier.notifyMany`): resolves once they are
 * committed, reporting those refused by validation (never retried).
 */
export type NotifyFn = (
  inputs: NotificationInput[],
) => Promise<{ refused: { index: number }[] }>;

/** What a hand-over did. */
export interface HandOver {
  /** Enqueued for delivery (and removed from the outbox). */
  handed: number;
  /** Refused by validation: removed, never retried. */
  refused: number;
  /** Failed for now (KV unavailable): left for the next drain. */
  failed: number;
}

/**
 * Hands `entries` over in one go, then deletes them (those refused by validation too: they
 * can never be delivered); on a failure they all stay for the next drain.
 */
export async function handOver(
  kv: Deno.Kv,
  notify: NotifyFn,
  entries: { key: Deno.KvKey; input: NotificationInput }[],
): Promise<HandOver> {
  if (entries.length === 0) return { handed: 0, refused: 0, failed: 0 };
  let refused: number;
  try {
    refused = (await notify(entries.map((e) => e.input))).refused.length;
  } catch {
    return { handed: 0, refused: 0, failed: entries.length };
  }
  for (let i = 0; i < entries.length; i += 500) {
    const op = kv.atomic();
    for (const e of entries.slice(i, i + 500)) op.delete(e.key);
    await op.commit();
  }
  return { handed: entries.length - refused, refused, failed: 0 };
}

/** Hands over what the outbox holds (at most `limit`). */
export async function drainOutbox(kv: Deno.Kv, notify: NotifyFn, limit = 500): Promise<HandOver> {
  const entries: { key: Deno.KvKey; input: NotificationInput }[] = [];
  for await (const e of kv.list<NotificationInput>({ prefix: alertOutboxPrefix() }, { limit })) {
    entries.push({ key: e.key, input: e.value });
  }
  return await handOver(kv, notify, entries);
}

export { alertOutboxKey };
