/**
 * How the listener writes: changes are grouped in units (a transaction's record with its
 * items, a block record, an address's balances), each with the messages it causes. Units
 * are committed in order, as few commits as KV's limits allow (≤ 400 mutations and
 * ≈ 400 KB each, well under KV's 1 000 / 800 KiB), a unit never split; the messages of a
 * commit go to the outbox in the same commit, so a state change and its announcement are
 * one. Every commit checks and rewrites the cursor: if another isolate moved it (a lease
 * taken over), the commit fails with {@linkcode FencedError} and nothing is written.
 *
 * @module
 */
import { chainCursorKey, chainOutboxKey } from "../kv/keys.ts";
import type { ChainCursor, OutboxMessage } from "./store.ts";

/** Mutations per commit at most (KV allows 1 000). */
const MAX_MUTATIONS = 400;
/** Estimated bytes per commit at most (KV allows 800 KiB). */
const MAX_BYTES = 400_000;
/** Estimated bytes of messages per outbox entry (a KV value holds 64 KiB). */
const MAX_OUTBOX_ENTRY = 48_000;

/** Another listener moved the cursor: this one must stop writing and reload. */
export class FencedError extends Error {
  constructor() {
    super("Cannot commit: another listener moved the chain cursor (lease lost)");
    this.name = "FencedError";
  }
}

/** A group of changes committed together, with the messages they cause. */
export interface Unit {
  sets: [Deno.KvKey, unknown][];
  deletes: Deno.KvKey[];
  messages: OutboxMessage[];
  bytes: number;
}

function size(value: unknown): number {
  return JSON.stringify(value)?.length ?? 8;
}

/** Collects units in order. */
export class ChangeSet {
  readonly units: Unit[] = [];

  /** A new unit (appended). */
  unit(): Unit {
    const unit: Unit = { sets: [], deletes: [], messages: [], bytes: 0 };
    this.units.push(unit);
    return unit;
  }

  /** Whether there is anything to commit. */
  get empty(): boolean {
    return this.units.every((u) =>
      u.sets.length === 0 && u.deletes.length === 0 && u.messages.length === 0
    );
  }

  /** Messages in order. */
  messages(): OutboxMessage[] {
    return this.units.flatMap((u) => u.messages);
  }
}

/** Adds a write to `unit`. */
export function put(unit: Unit, key: Deno.KvKey, value: unknown): void {
  unit.sets.push([key, value]);
  unit.bytes += size(value) + size(key);
}

/** Adds a deletion to `unit`. */
export function del(unit: Unit, key: Deno.KvKey): void {
  unit.deletes.push(key);
  unit.bytes += size(key);
}

/** Adds a message to `unit`. */
export function say(unit: Unit, channel: string, data: unknown): void {
  unit.messages.push({ channel, data });
  unit.bytes += size(data) + channel.length;
}

function outboxEntries(messages: OutboxMessage[]): OutboxMessage[][] {
  const entries: OutboxMessage[][] = [];
  let current: OutboxMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const n = size(m);
    if (current.length > 0 && bytes + n > MAX_OUTBOX_ENTRY) {
      entries.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += n;
  }
  if (current.length > 0) entries.push(current);
  return entries;
}

/**
 * Commits `changes`, then `next` as the cursor (its `outboxSeq` is advanced here).
 * `versionstamp` is the cursor's current one; resolves with the cursor written and its
 * new versionstamp. Throws {@linkcode FencedError} when the cursor moved.
 */
export async function commitChanges(
  kv: Deno.Kv,
  chainId: number,
  versionstamp: string | null,
  current: ChainCursor,
  next: ChainCursor,
  changes: ChangeSet,
): Promise<{ cursor: ChainCursor; versionstamp: string }> {
  const key = chainCursorKey(chainId);
  const chunks: Unit[][] = [];
  let chunk: Unit[] = [];
  let mutations = 0;
  let bytes = 0;
  for (const unit of changes.units) {
    const n = unit.sets.length + unit.deletes.length + Math.ceil(unit.bytes / MAX_OUTBOX_ENTRY) + 1;
    if (chunk.length > 0 && (mutations + n > MAX_MUTATIONS || bytes + unit.bytes > MAX_BYTES)) {
      chunks.push(chunk);
      chunk = [];
      mutations = 0;
      bytes = 0;
    }
    chunk.push(unit);
    mutations += n;
    bytes += unit.bytes;
  }
  chunks.push(chunk);
  let stamp = versionstamp;
  let outboxSeq = Math.max(current.outboxSeq, next.outboxSeq);
  let written = current;
  for (let i = 0; i < chunks.length; i++) {
    const last = i === chunks.length - 1;
    const op = kv.atomic().check({ key, versionstamp: stamp });
    for (const unit of chunks[i]) {
      for (const k of unit.deletes) op.delete(k);
      for (const [k, v] of unit.sets) op.set(k, v);
    }
    for (const entry of outboxEntries(chunks[i].flatMap((u) => u.messages))) {
      op.set(chainOutboxKey(chainId, outboxSeq++), entry);
    }
    written = last
      ? { ...next, outboxSeq }
      : { ...written, itemSeq: Math.max(written.itemSeq, next.itemSeq), outboxSeq };
    op.set(key, written);
    const result = await op.commit();
    if (!result.ok) throw new FencedError();
    stamp = result.versionstamp;
  }
  return { cursor: written, versionstamp: stamp! };
}
