/**
 * The publish queue: every publish gets an id kept across resends (the server
 * de-duplicates by it), waits in a bounded FIFO while the connection is not ready, is
 * resent on ack timeouts and temporary errors, and settles exactly once — through its
 * promise (if it still has one), `onPublishSettled` and, on failure, `onPublishFailed`.
 *
 * Pacing: once the server has announced its per-connection rate limit (`connected.limits`),
 * frames go out within half its burst and 80 % of its rate (subscribes and pongs share the
 * bucket), in order. A queue flushed on reconnect would otherwise run into `rate_limited`
 * for some publishes, whose resend after a backoff lands behind later ones — out of order.
 */
import type { ErrorData } from "../protocol/messages.ts";
import type { Position } from "../protocol/position.ts";
import { backoffDelay } from "./backoff.ts";
import { PublishError } from "./errors.ts";
import { loadOutbox, newPublishId, saveOutbox } from "./outbox.ts";
import type {
  OutboxStorage,
  PublishErrorCode,
  PublishOptions,
  PublishResult,
  PublishSettlement,
  Timers,
} from "./types.ts";

/** What happened to a publish frame handed to the connection. */
export type SendOutcome = "sent" | "offline" | "too_large" | "unencodable";

/** What the publisher needs from the client. */
export interface PublisherHost {
  /** Sends one publish frame on the current connection. */
  sendPublish(id: string, channel: string, data: unknown): SendOutcome;
  timers: Timers;
  random: () => number;
}

/** Publisher settings (defaults applied by the client). */
export interface PublisherOptions {
  ackTimeoutMs: number;
  publishRetries: number;
  maxQueue: number;
  storage?: OutboxStorage;
  storageKey: string;
}

interface Entry {
  id: string;
  channel: string;
  data: unknown;
  /** Resends so far (ack timeouts and temporary errors). */
  retries: number;
  /** queued: waits for the connection; sent: waits for its ack; waiting: retry backoff. */
  state: "queued" | "sent" | "waiting";
  timer: unknown;
  resolve?: (result: PublishResult) => void;
  reject?: (error: PublishError) => void;
  optimistic?: PublishOptions["optimistic"];
}

/** Base of the backoff before resending after a temporary error, ms. */
const TEMPORARY_RETRY_BASE_MS = 1_000;

/** The publish queue of one client. */
export class Publisher {
  #host: PublisherHost;
  #options: PublisherOptions;
  /** Unsettled publishes in publish order. */
  #entries: Entry[] = [];
  #byId = new Map<string, Entry>();
  #ready = false;
  /** Pacing (see the module doc): tokens per ms and the bucket's size; null = unpaced. */
  #rate: { perMs: number; burst: number } | null = null;
  #tokens = 0;
  #refilledAt = 0;
  /** Publishes waiting for a token, in order. */
  #paced: Entry[] = [];
  #paceTimer: unknown = null;
  #failedListeners = new Set<(error: PublishError) => void>();
  #settledListeners = new Set<(settlement: PublishSettlement) => void>();

  constructor(host: PublisherHost, options: PublisherOptions) {
    this.#host = host;
    this.#options = options;
    if (!options.storage) return;
    for (const stored of loadOutbox(options.storage, options.storageKey, options.maxQueue)) {
      this.#add({ ...stored, retries: 0, state: "queued", timer: null });
    }
    this.#persist(); // rewrites (or clears) what was corrupt
  }

  /** Publishes not yet settled. */
  get size(): number {
    return this.#entries.length;
  }

  /** Queues one publish and sends it when the connection is ready. */
  publish(channel: string, data: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    const id = newPublishId();
    if (data === undefined) {
      return this.#refuse(id, channel, "bad_message", `Cannot publish to ${channel}: no data`);
    }
    if (this.#entries.length >= this.#options.maxQueue) {
      return this.#refuse(
        id,
        channel,
        "queue_full",
        `Cannot publish to ${channel}: ${this.#options.maxQueue} publishes are already waiting`,
      );
    }
    options.optimistic?.apply();
    return new Promise<PublishResult>((resolve, reject) => {
      const entry: Entry = {
        id,
        channel,
        data,
        retries: 0,
        state: "queued",
        timer: null,
        resolve,
        reject,
        optimistic: options.optimistic,
      };
      this.#add(entry);
      this.#persist();
      if (this.#ready) this.#send(entry);
    });
  }

  /**
   * Paces sends to the server's announced limit (`connected.limits`); non-positive or
   * missing values turn pacing off.
   */
  setRate(messagesPerSecond: number | undefined, messageBurst: number | undefined): void {
    const ok = (n: number | undefined): n is number => typeof n === "number" && n > 0;
    this.#rate = ok(messagesPerSecond) && ok(messageBurst)
      ? {
        perMs: (messagesPerSecond * 0.8) / 1000,
        burst: Math.max(1, Math.floor(messageBurst / 2)),
      }
      : null;
    this.#tokens = this.#rate?.burst ?? 0;
    this.#refilledAt = this.#host.timers.now();
  }

  /** The connection is ready (subscriptions sent): sends everything queued, in order. */
  resume(): void {
    this.#ready = true;
    for (const entry of [...this.#entries]) {
      if (entry.state === "queued" && this.#ready) this.#send(entry);
    }
  }

  /** The connection is gone: everything unacknowledged waits for the next one. */
  suspend(): void {
    this.#ready = false;
    this.#paced = [];
    this.#host.timers.clearTimeout(this.#paceTimer);
    this.#paceTimer = null;
    for (const entry of this.#entries) {
      this.#host.timers.clearTimeout(entry.timer);
      entry.timer = null;
      entry.state = "queued";
    }
  }

  /** Settles the publish `id` answered by an `ack`; false when it is not ours. */
  ack(id: string, data: Partial<Position>): boolean {
    const entry = this.#byId.get(id);
    if (!entry) return false;
    const result: PublishResult = {};
    if (data.offset !== undefined) result.offset = data.offset;
    if (data.epoch !== undefined) result.epoch = data.epoch;
    this.#settle(entry, { ok: true, result });
    return true;
  }

  /** Handles an `error` answering the publish `id`; false when it is not ours. */
  error(id: string, error: ErrorData): boolean {
    const entry = this.#byId.get(id);
    if (!entry) return false;
    if (!error.temporary) {
      this.#fail(entry, error.code, error.message);
    } else if (entry.state === "sent") {
      // A late answer to an earlier send while already retrying changes nothing.
      this.#host.timers.clearTimeout(entry.timer);
      entry.timer = null;
      const delay = backoffDelay(
        entry.retries,
        { minMs: TEMPORARY_RETRY_BASE_MS, maxMs: this.#options.ackTimeoutMs },
        this.#host.random,
      );
      this.#retry(entry, error.code, error.message, delay);
    }
    return true;
  }

  /** Fails every unsettled publish with `cancelled` (e.g. on sign-out); returns how many. */
  clear(): number {
    const entries = [...this.#entries];
    for (const entry of entries) {
      this.#fail(entry, "cancelled", `Cannot publish to ${entry.channel}: cancelled`);
    }
    return entries.length;
  }

  /** Listens to final failures; returns a function that stops listening. */
  onFailed(listener: (error: PublishError) => void): () => void {
    this.#failedListeners.add(listener);
    return () => this.#failedListeners.delete(listener);
  }

  /** Listens to every settlement; returns a function that stops listening. */
  onSettled(listener: (settlement: PublishSettlement) => void): () => void {
    this.#settledListeners.add(listener);
    return () => this.#settledListeners.delete(listener);
  }

  #add(entry: Entry): void {
    this.#entries.push(entry);
    this.#byId.set(entry.id, entry);
  }

  /** Sends `entry` now, or after the publishes already waiting for a token. */
  #send(entry: Entry): void {
    if (this.#rate === null) return this.#transmit(entry);
    entry.state = "queued";
    this.#paced.push(entry);
    this.#pace();
  }

  /** Sends waiting publishes while there are tokens; else comes back when there will be. */
  #pace(): void {
    const rate = this.#rate;
    if (rate === null) return;
    const now = this.#host.timers.now();
    this.#tokens = Math.min(rate.burst, this.#tokens + (now - this.#refilledAt) * rate.perMs);
    this.#refilledAt = now;
    while (this.#paced.length > 0 && this.#tokens >= 1) {
      const entry = this.#paced.shift()!;
      // Settled, or resent by other means, while it waited.
      if (!this.#byId.has(entry.id) || entry.state !== "queued" || !this.#ready) continue;
      this.#tokens -= 1;
      this.#transmit(entry);
    }
    if (this.#paced.length === 0 || this.#paceTimer !== null) return;
    const wait = Math.max(1, Math.ceil((1 - this.#tokens) / rate.perMs));
    this.#paceTimer = this.#host.timers.setTimeout(() => {
      this.#paceTimer = null;
      this.#pace();
    }, wait);
  }

  #transmit(entry: Entry): void {
    const outcome = this.#host.sendPublish(entry.id, entry.channel, entry.data);
    if (outcome === "offline") {
      entry.state = "queued";
    } else if (outcome === "too_large") {
      this.#fail(entry, "frame_too_large", `Cannot publish to ${entry.channel}: frame too large`);
    } else if (outcome === "unencodable") {
      this.#fail(entry, "bad_message", `Cannot publish to ${entry.channel}: data not encodable`);
    } else {
      entry.state = "sent";
      entry.timer = this.#host.timers.setTimeout(() => {
        entry.timer = null;
        const ms = this.#options.ackTimeoutMs;
        this.#retry(entry, "ack_timeout", `Cannot publish to ${entry.channel}: no ack in ${ms} ms`);
      }, this.#options.ackTimeoutMs);
    }
  }

  /** Resends after `delayMs`, or fails with `code` once the retries are used up. */
  #retry(entry: Entry, code: PublishErrorCode, message: string, delayMs = 0): void {
    entry.retries++;
    if (entry.retries > this.#options.publishRetries) return this.#fail(entry, code, message);
    if (delayMs <= 0) {
      if (this.#ready) this.#send(entry);
      else entry.state = "queued";
      return;
    }
    entry.state = "waiting";
    entry.timer = this.#host.timers.setTimeout(() => {
      entry.timer = null;
      if (this.#ready) this.#send(entry);
      else entry.state = "queued";
    }, delayMs);
  }

  #fail(entry: Entry, code: PublishErrorCode, message: string): void {
    this.#settle(entry, {
      ok: false,
      error: new PublishError(code, entry.channel, entry.id, message),
    });
  }

  #settle(
    entry: Entry,
    outcome: { ok: true; result: PublishResult } | { ok: false; error: PublishError },
  ): void {
    this.#host.timers.clearTimeout(entry.timer);
    entry.timer = null;
    this.#entries.splice(this.#entries.indexOf(entry), 1);
    this.#byId.delete(entry.id);
    this.#persist();
    const { id, channel } = entry;
    if (outcome.ok) {
      entry.resolve?.(outcome.result);
      emit(this.#settledListeners, { id, channel, ok: true, result: outcome.result });
      return;
    }
    const optimistic = entry.optimistic;
    if (optimistic) guarded(() => optimistic.rollback());
    entry.reject?.(outcome.error);
    emit(this.#failedListeners, outcome.error);
    emit(this.#settledListeners, { id, channel, ok: false, error: outcome.error });
  }

  /** Fails a publish that never entered the queue. */
  #refuse(
    id: string,
    channel: string,
    code: PublishErrorCode,
    message: string,
  ): Promise<PublishResult> {
    const error = new PublishError(code, channel, id, message);
    emit(this.#failedListeners, error);
    emit(this.#settledListeners, { id, channel, ok: false, error });
    return Promise.reject(error);
  }

  #persist(): void {
    const { storage, storageKey } = this.#options;
    if (storage) saveOutbox(storage, storageKey, this.#entries);
  }
}

/** Calls every listener; one that throws does not stop the others (its error is rethrown apart). */
function emit<T>(listeners: Set<(value: T) => void>, value: T): void {
  for (const listener of [...listeners]) guarded(() => listener(value));
}

function guarded(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
