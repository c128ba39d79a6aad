/**
 * Requests answered by one reply frame (`history`): each gets an id, waits for the
 * connection while there is none, is sent once the session is established, and settles
 * exactly once — with the reply, with the server's `error`, when its deadline passes, or
 * when the connection it was sent on drops before the reply (it is not resent: the
 * caller decides whether to ask again).
 */
import type { ErrorData } from "../protocol/messages.ts";
import { RequestError } from "./errors.ts";
import type { RequestErrorCode, Timers } from "./types.ts";
import type { OutgoingMessage } from "./wire.ts";

/** Requests waiting for the connection or a reply, at most; one more fails with `queue_full`. */
export const MAX_PENDING_REQUESTS = 100;

/** What the requests need from the client. */
export interface RequestsHost {
  /** Sends one frame on the current connection; false when there is none. */
  send(message: OutgoingMessage): boolean;
  timers: Timers;
}

interface Pending {
  type: string;
  channel: string;
  message: OutgoingMessage;
  sent: boolean;
  timer: unknown;
  resolve(data: unknown): void;
  reject(error: RequestError): void;
}

/** The outstanding requests of one client. */
export class Requests {
  #host: RequestsHost;
  #pending = new Map<string, Pending>();
  #ready = false;
  #nextId = 0;

  constructor(host: RequestsHost) {
    this.#host = host;
  }

  /** Requests not yet settled. */
  get size(): number {
    return this.#pending.size;
  }

  /**
   * Sends the message `build(id)` now if the session is established, else when it is,
   * and resolves with the `data` of the reply carrying `id`. Rejects with a
   * {@linkcode RequestError} on an `error` reply, after `timeoutMs` in all, or when the
   * connection drops after sending.
   */
  request(
    type: string,
    channel: string,
    build: (id: string) => OutgoingMessage,
    timeoutMs: number,
  ): Promise<unknown> {
    const id = `q${++this.#nextId}`;
    if (this.#pending.size >= MAX_PENDING_REQUESTS) {
      return Promise.reject(
        new RequestError(
          "queue_full",
          type,
          channel,
          id,
          `Cannot request ${type} of ${channel}: ${MAX_PENDING_REQUESTS} requests are already waiting`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const pending: Pending = {
        type,
        channel,
        message: build(id),
        sent: false,
        timer: null,
        resolve,
        reject,
      };
      this.#pending.set(id, pending);
      pending.timer = this.#host.timers.setTimeout(() => {
        pending.timer = null;
        const where = pending.sent ? "no reply" : "not connected";
        this.#fail(
          id,
          "timeout",
          `Cannot request ${type} of ${channel}: ${where} within ${timeoutMs} ms`,
        );
      }, timeoutMs);
      if (this.#ready) this.#sendOne(pending);
    });
  }

  /** The session is established: sends every request still waiting, in order. */
  resume(): void {
    this.#ready = true;
    for (const pending of this.#pending.values()) {
      if (!pending.sent && this.#ready) this.#sendOne(pending);
    }
  }

  /** The connection is gone: requests sent on it fail; unsent ones keep waiting. */
  suspend(): void {
    this.#ready = false;
    for (const [id, pending] of [...this.#pending]) {
      if (!pending.sent) continue;
      this.#fail(
        id,
        "disconnected",
        `Cannot request ${pending.type} of ${pending.channel}: the connection dropped before the reply`,
      );
    }
  }

  /** Settles the request `id` of `type` with its reply's data; false when it is not ours. */
  reply(type: string, id: string, data: unknown): boolean {
    const pending = this.#pending.get(id);
    if (!pending || pending.type !== type) return false;
    this.#settle(id, pending);
    pending.resolve(data);
    return true;
  }

  /** Settles the request `id` with the server's error; false when it is not ours. */
  error(id: string, error: ErrorData): boolean {
    if (!this.#pending.has(id)) return false;
    this.#fail(id, error.code, error.message, error.temporary);
    return true;
  }

  #sendOne(pending: Pending): void {
    pending.sent = this.#host.send(pending.message);
  }

  #fail(id: string, code: RequestErrorCode, message: string, temporary?: boolean): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#settle(id, pending);
    pending.reject(new RequestError(code, pending.type, pending.channel, id, message, temporary));
  }

  #settle(id: string, pending: Pending): void {
    this.#host.timers.clearTimeout(pending.timer);
    pending.timer = null;
    this.#pending.delete(id);
  }
}
