/**
 * The lobby's message format on `presence:lobby`, shared by the island and the tests.
 * Anyone signed in may publish there, so what arrives is validated (zod) before it is
 * shown: a message that is not a lobby message is dropped, never rendered or thrown on.
 * Who sent it is not part of the data: the server attaches the publisher (`from`,
 * `fromName`), and that is the only sender identity the lobby shows.
 */
import * as z from "zod/mini";

/** The longest message text. */
export const MAX_TEXT = 500;
const MAX_NONCE = 64;

const LobbyMessageSchema = z.object({
  /** What was said. */
  text: z.string().check(z.minLength(1), z.maxLength(MAX_TEXT)),
  /** The sender's client-side id, to match an optimistic entry with its place in the channel. */
  nonce: z.string().check(z.minLength(1), z.maxLength(MAX_NONCE)),
});

/** A lobby message as published on `presence:lobby`. */
export type LobbyMessage = z.infer<typeof LobbyMessageSchema>;

/** The lobby message in `data` (unknown fields dropped), or `null` when `data` is not one. */
export function parseLobbyMessage(data: unknown): LobbyMessage | null {
  const result = LobbyMessageSchema.safeParse(data);
  return result.success ? { text: result.data.text, nonce: result.data.nonce } : null;
}

/** A fresh nonce (`crypto.randomUUID` exists on https and localhost only). */
export function newNonce(): string {
  return crypto.randomUUID?.() ??
    `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
