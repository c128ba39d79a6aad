/**
 * The client's side of delta messages: per channel subscribed with delta, the last value
 * the server sent on this connection — the base its next patch applies to. The server
 * starts every subscription (and every re-subscription) with a full message, so the base
 * is dropped on `subscribed` and when the connection is lost. A patch that finds no base,
 * or cannot be applied, is never delivered: the caller asks for a full value instead.
 */
import { applyPatch } from "../protocol/delta.ts";
import type { ServerMessage } from "../protocol/messages.ts";

type Published = Extract<ServerMessage, { type: "message" }>;

/** What to do with one `message` frame. */
export type Resolution =
  /** Deliver `data` (the full value, rebuilt from a patch when it was one). */
  | { deliver: true; data: unknown }
  /**
   * Do not deliver. `askFull`: ask the server for a full value (once per channel until
   * the next `subscribed`); `reason` says why.
   */
  | { deliver: false; askFull: boolean; reason: string };

/** Delta bases per channel, for one client. */
export class DeltaBases {
  /** Channels where the server confirmed delta (on the current connection). */
  #on = new Set<string>();
  /** Channel → the last full value received (private: handlers get copies). */
  #bases = new Map<string, unknown>();
  /** Channels where a full value was asked for and has not come yet. */
  #asked = new Set<string>();

  /** Whether the server sends patches on `channel` now. */
  active(channel: string): boolean {
    return this.#on.has(channel);
  }

  /** A `subscribed` frame: the next message of the channel comes full. */
  subscribed(channel: string, delta: boolean): void {
    this.#bases.delete(channel);
    this.#asked.delete(channel);
    if (delta) this.#on.add(channel);
    else this.#on.delete(channel);
  }

  /** The channel is no longer subscribed. */
  forget(channel: string): void {
    this.#on.delete(channel);
    this.#bases.delete(channel);
    this.#asked.delete(channel);
  }

  /** The connection is gone: every base with it. */
  clear(): void {
    this.#on.clear();
    this.#bases.clear();
    this.#asked.clear();
  }

  /** Resolves one `message` frame into the value to deliver, or why not to. */
  resolve(message: Published): Resolution {
    const channel = message.channel;
    if (message.delta === true) {
      if (this.#asked.has(channel)) {
        return { deliver: false, askFull: false, reason: "waiting for a full value" };
      }
      const result = applyPatch(this.#bases.get(channel), message.data);
      if (!result.ok) {
        this.#bases.delete(channel);
        this.#asked.add(channel);
        return { deliver: false, askFull: true, reason: result.error };
      }
      this.#bases.set(channel, result.value);
      return { deliver: true, data: structuredClone(result.value) };
    }
    if (!this.#on.has(channel)) return { deliver: true, data: message.data };
    this.#asked.delete(channel);
    this.#bases.set(channel, message.data);
    // Handlers get their own copy: whatever they do with it, the base stays intact.
    return { deliver: true, data: structuredClone(message.data) };
  }
}
