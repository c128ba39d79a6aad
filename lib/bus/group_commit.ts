/**
 * The group commit both bus engines share: publishes queue up while one batch is being
 * committed, and the next round takes as many as one commit may hold. One round runs at
 * a time; a round starts on the next microtask, so the publishes of one moment share it.
 *
 * Latest values: an item with a key (`keyOf`, e.g. the channel of a latest-value publish)
 * replaces the item of the same key still waiting for a round — in its place, so the order of
 * everything else stands — and `replaced` is told. Under overload the queue then holds at most
 * one value per such channel, and a commit never stores a value already superseded.
 */

/** Options of {@linkcode createGroupCommit}. */
export interface GroupCommitOptions<T> {
  /** How many of `pending` (at least one) the next commit takes. */
  take(pending: readonly T[]): number;
  /** Commits one batch; settles each item itself (never rejects for one item). */
  commit(batch: T[]): Promise<void>;
  /** The key under which a newer item replaces a waiting one; undefined: never replaced. */
  keyOf?(item: T): string | undefined;
  /** `older` was replaced by `newer` before its round: it will not be committed. */
  replaced?(older: T, newer: T): void;
}

/** A queue of publishes committed in batches. */
export interface GroupCommit<T> {
  /** Queues `item`; a round commits it. */
  push(item: T): void;
  /** Items waiting for a round. */
  readonly size: number;
  /** Resolves once no round is running (and none is due). */
  idle(): Promise<void>;
}

/** A group-commit queue over `options.commit`. */
export function createGroupCommit<T>(options: GroupCommitOptions<T>): GroupCommit<T> {
  let pending: T[] = [];
  let flushing: Promise<void> | null = null;
  /** Items taken for rounds so far: `pending[i]` is item number `taken + i`. */
  let taken = 0;
  /** Key → number of the waiting item with that key (stale once taken). */
  const waiting = new Map<string, number>();

  async function flush(): Promise<void> {
    while (pending.length > 0) {
      const n = Math.max(1, options.take(pending));
      const batch = pending.slice(0, n);
      pending = pending.slice(n);
      taken += n;
      if (waiting.size > 0 && pending.length === 0) waiting.clear();
      await options.commit(batch);
    }
  }

  /** Replaces the waiting item of `item`'s key, if any; false when there is none. */
  function replace(item: T): boolean {
    const key = options.keyOf?.(item);
    if (key === undefined) return false;
    const at = waiting.get(key);
    if (at === undefined || at < taken) {
      waiting.set(key, taken + pending.length);
      return false;
    }
    const older = pending[at - taken];
    pending[at - taken] = item;
    options.replaced?.(older, item);
    return true;
  }

  function schedule(): void {
    if (flushing) return;
    flushing = new Promise<void>((resolve) => queueMicrotask(resolve))
      .then(flush)
      .finally(() => {
        flushing = null;
        if (pending.length > 0) schedule();
      });
  }

  return {
    push(item) {
      if (!replace(item)) pending.push(item);
      schedule();
    },
    get size() {
      return pending.length;
    },
    async idle() {
      while (flushing) await flushing;
    },
  };
}

/** A queued publish that settles by itself (both engines' pending publishes). */
export interface QueuedPublish<M> {
  channel: string;
  /** A latest-value publish: a newer one on the channel may replace it while it waits. */
  latest?: boolean;
  idempotencyKey?: string;
  resolve(message: M): void;
  reject(err: unknown): void;
}

/**
 * `keyOf` for a queue of publishes: a latest-value publish is keyed by its channel (one with an
 * idempotency key never is: it must be committed as itself).
 */
export function latestKey(item: QueuedPublish<unknown>): string | undefined {
  return item.latest && item.idempotencyKey === undefined ? item.channel : undefined;
}

/** `replaced` for a queue of publishes: the older publish settles as the newer one does. */
export function settleWithNewer<M>(older: QueuedPublish<M>, newer: QueuedPublish<M>): void {
  const { resolve, reject } = newer;
  newer.resolve = (message) => {
    resolve(message);
    older.resolve(message);
  };
  newer.reject = (err) => {
    reject(err);
    older.reject(err);
  };
}
