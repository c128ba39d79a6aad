/**
 * The group commit both bus engines share: publishes queue up while one batch is being
 * committed, and the next round takes as many as one commit may hold. One round runs at
 * a time; a round starts on the next microtask, so the publishes of one moment share it.
 */

/** Options of {@linkcode createGroupCommit}. */
export interface GroupCommitOptions<T> {
  /** How many of `pending` (at least one) the next commit takes. */
  take(pending: readonly T[]): number;
  /** Commits one batch; settles each item itself (never rejects for one item). */
  commit(batch: T[]): Promise<void>;
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

  async function flush(): Promise<void> {
    while (pending.length > 0) {
      const n = Math.max(1, options.take(pending));
      const batch = pending.slice(0, n);
      pending = pending.slice(n);
      await options.commit(batch);
    }
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
      pending.push(item);
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
