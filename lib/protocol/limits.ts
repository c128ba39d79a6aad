/**
 * Protocol bounds both sides need. Free of zod, so the client SDK can import values from
 * here (from `messages.ts` it imports types only).
 */

/** Most messages one `history` request may ask for. */
export const MAX_HISTORY_LIMIT = 100;
/** Messages a `history` request without `limit` gets. */
export const DEFAULT_HISTORY_LIMIT = 50;
