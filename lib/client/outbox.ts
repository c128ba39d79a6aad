/**
 * The persisted form of the offline queue and publish ids. Storage is untrusted: a
 * corrupt or foreign value is ignored (and overwritten), never thrown.
 */
import type { OutboxStorage } from "./types.ts";

/** One publish as persisted. */
export interface StoredPublish {
  id: string;
  channel: string;
  data: unknown;
}

const FORMAT = 1;

/** A publish id: a random UUID (≤ 64 characters), random hex where `randomUUID` is missing. */
export function newPublishId(): string {
  // `randomUUID` exists only in secure contexts (https, localhost).
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID().slice(0, 64);
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The valid entries persisted under `key`, at most `max`, ids unique. */
export function loadOutbox(storage: OutboxStorage, key: string, max: number): StoredPublish[] {
  let parsed: unknown;
  try {
    const raw = storage.getItem(key);
    if (raw === null) return [];
    parsed = JSON.parse(raw);
  } catch {
    return [];
  }
  const list = (parsed as { v?: unknown; publishes?: unknown } | null)?.publishes;
  if ((parsed as { v?: unknown } | null)?.v !== FORMAT || !Array.isArray(list)) return [];
  const seen = new Set<string>();
  const out: StoredPublish[] = [];
  for (const item of list) {
    if (out.length >= max) break;
    if (!isStoredPublish(item) || seen.has(item.id)) continue;
    seen.add(item.id);
    out.push({ id: item.id, channel: item.channel, data: item.data });
  }
  return out;
}

/** Writes the queue (removes the key when it is empty). Storage failures are ignored. */
export function saveOutbox(storage: OutboxStorage, key: string, entries: StoredPublish[]): void {
  try {
    if (entries.length === 0) return storage.removeItem(key);
    const publishes = entries.map(({ id, channel, data }) => ({ id, channel, data }));
    storage.setItem(key, JSON.stringify({ v: FORMAT, publishes }));
  } catch {
    // Quota exceeded, storage disabled, data not JSON: the queue still lives in memory.
  }
}

function isStoredPublish(item: unknown): item is StoredPublish {
  if (typeof item !== "object" || item === null) return false;
  const { id, channel, data } = item as Record<string, unknown>;
  return typeof id === "string" && id.length >= 1 && id.length <= 64 &&
    typeof channel === "string" && channel.length >= 1 && channel.length <= 161 &&
    data !== undefined;
}
