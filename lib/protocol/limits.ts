/**
 * Protocol bounds both sides need. Free of zod, so the client SDK can import values from
 * here (from `messages.ts` it imports types only).
 */

/** Most messages one `history` request may ask for. */
export const MAX_HISTORY_LIMIT = 100;
/** Messages a `history` request without `limit` gets. */
export const DEFAULT_HISTORY_LIMIT = 50;
/**
 * How deep `publish.data` may nest: arrays and objects inside one another, `[[1]]` is 2.
 * Deeper data is refused with `bad_message` (Deno KV's serializer fails on deep values,
 * and decoding them costs far more per byte).
 */
export const MAX_PAYLOAD_DEPTH = 32;
/**
 * How deep a whole client frame may nest; a deeper frame is refused before it is decoded
 * (`bad_message`, without `id`: decoding is what finds the id). Above the envelope and
 * `data`'s own bound, so a publish nested 33–62 deep still gets its error with its `id`.
 */
export const MAX_FRAME_DEPTH = 64;
