/**
 * One `kv.listenQueue` per KV handle, shared by every queue on it: messages are routed by
 * their `queue` field. Deno 2.9 accepts a second `listenQueue` on a handle but then splits
 * the messages between the listeners round-robin, so every consumer of a handle's queue
 * must register here instead of listening itself.
 */

/** A message the dispatcher can route. */
export interface RoutedMessage {
  queue: string;
}

/** Handles the messages of one queue. A rejection makes KV redeliver the message later. */
export type QueueRoute = (message: RoutedMessage) => Promise<void>;

function isRouted(value: unknown): value is RoutedMessage {
  return typeof value === "object" && value !== null &&
    typeof (value as Record<string, unknown>).queue === "string";
}

/** Routes one KV handle's queue messages to the queues registered in this isolate. */
export class QueueDispatcher {
  /**
   * How long a message for a queue not (yet) registered waits for it, ms. Isolates build
   * their services at start-up, so a message may arrive just before its queue starts.
   * After this it is acknowledged and dropped: the job's record stays, and the kv-queue
   * sweep sends it again.
   */
  unknownQueueWaitMs = 2_000;
  #kv: Deno.Kv;
  #routes = new Map<string, QueueRoute>();
  #waiters = new Map<string, Set<(route: QueueRoute) => void>>();
  #listening: Promise<void> | null = null;
  #dropped = 0;

  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  /** Messages acknowledged because no route for their queue appeared in time. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Routes `queue`'s messages to `route`; starts listening on first use. Returns the undo. */
  register(queue: string, route: QueueRoute): () => void {
    if (this.#routes.has(queue)) {
      throw new Error(`Cannot register queue "${queue}": it is already registered on this KV`);
    }
    this.#routes.set(queue, route);
    for (const wake of this.#waiters.get(queue) ?? []) wake(route);
    this.#waiters.delete(queue);
    this.#listening ??= this.#kv.listenQueue((message) => this.#dispatch(message)).catch(
      (err) => {
        // E.g. a KV without queues (KV Connect): use the outbox backend there.
        console.error("Cannot listen on the KV queue", err);
        this.#listening = null;
      },
    );
    return () => {
      if (this.#routes.get(queue) === route) this.#routes.delete(queue);
    };
  }

  async #dispatch(message: unknown): Promise<void> {
    if (!isRouted(message)) return;
    const route = this.#routes.get(message.queue) ?? await this.#waitForRoute(message.queue);
    if (!route) {
      this.#dropped++;
      return;
    }
    await route(message);
  }

  #waitForRoute(queue: string): Promise<QueueRoute | undefined> {
    return new Promise((resolve) => {
      const waiters = this.#waiters.get(queue) ?? new Set();
      this.#waiters.set(queue, waiters);
      const wake = (route: QueueRoute | undefined) => {
        clearTimeout(timer);
        waiters.delete(wake);
        resolve(route);
      };
      const timer = setTimeout(() => wake(undefined), this.unknownQueueWaitMs);
      waiters.add(wake);
    });
  }
}

const dispatchers = new WeakMap<Deno.Kv, QueueDispatcher>();

/** The dispatcher of `kv` (one per handle). Use it for any `listenQueue` on the handle. */
export function queueDispatcher(kv: Deno.Kv): QueueDispatcher {
  let dispatcher = dispatchers.get(kv);
  if (!dispatcher) {
    dispatcher = new QueueDispatcher(kv);
    dispatchers.set(kv, dispatcher);
  }
  return dispatcher;
}
