/** Round-trip time measured by the client's own `ping {id}` → `pong {id}`. */
import type { Timers } from "./types.ts";

/** Pings one connection every `intervalMs` (0: never) and keeps the last RTT. */
export class Pinger {
  #timers: Timers;
  #intervalMs: number;
  #send: (id: string) => boolean;
  #timer: unknown = null;
  #outstanding: { id: string; at: number } | null = null;
  #nextId = 0;
  /** The last measured round trip, ms; null until one was measured on this connection. */
  rttMs: number | null = null;

  constructor(timers: Timers, intervalMs: number, send: (id: string) => boolean) {
    this.#timers = timers;
    this.#intervalMs = intervalMs;
    this.#send = send;
  }

  /** The connection is up: ping now and every interval. */
  start(): void {
    this.stop();
    if (this.#intervalMs > 0) this.#ping();
  }

  /** The connection is gone. */
  stop(): void {
    this.#timers.clearTimeout(this.#timer);
    this.#timer = null;
    this.#outstanding = null;
    this.rttMs = null;
  }

  /** Handles a `pong`; false when it answers no ping of ours. */
  pong(id: string | undefined): boolean {
    const ping = this.#outstanding;
    if (!ping || ping.id !== id) return false;
    this.rttMs = this.#timers.now() - ping.at;
    this.#outstanding = null;
    return true;
  }

  #ping(): void {
    const id = `p${++this.#nextId}`;
    // An unanswered older ping is forgotten: its pong no longer counts.
    this.#outstanding = this.#send(id) ? { id, at: this.#timers.now() } : null;
    this.#timer = this.#timers.setTimeout(() => this.#ping(), this.#intervalMs);
  }
}
