/**
 * The lobby's message format on `presence:lobby`, shared by the island and the tests.
 * Anyone signed in may publish there, so what arrives is validated before it is shown:
 * a message that is not a lobby message is dropped, never rendered or thrown on.
 */

/** A lobby message as published on `presence:lobby`. */
export interface LobbyMessage {
  /** What was said (1–500 characters). */
  text: string;
  /** The sender's display name as they published it. */
  name: string;
  /** The sender's client-side id, to match an optimistic entry with its place in the channel. */
  nonce: string;
}

/** The longest message text. */
export const MAX_TEXT = 500;
const MAX_NAME = 64;
const MAX_NONCE = 64;

function boundedString(value: unknown, max: number): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= max;
}

/** The lobby message in `data`, or `null` when `data` is not one. */
export function parseLobbyMessage(data: unknown): LobbyMessage | null {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return null;
  const { text, name, nonce } = data as Record<string, unknown>;
  if (!boundedString(text, MAX_TEXT) || !boundedString(name, MAX_NAME)) return null;
  if (!boundedString(nonce, MAX_NONCE)) return null;
  return { text, name, nonce };
}

/** A fresh nonce (`crypto.randomUUID` exists on https and localhost only). */
export function newNonce(): string {
  return crypto.randomUUID?.() ??
    `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
