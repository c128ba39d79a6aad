/**
 * Time-ordered ids (a lower-case ULID: 10 characters of ms, 16 random ones, Crockford
 * base 32) that strictly increase within one sequence, so a user's inbox sorts by
 * creation and a cursor (an id) never shifts.
 *
 * @module
 */

const CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz";
/** Characters of an id. */
export const ID_LENGTH = 26;
const TIME_CHARS = 10;

/** The 10-character time part of ids made at `ms`: every such id sorts at or after it. */
export function timePrefix(ms: number): string {
  let out = "";
  let t = Math.max(0, Math.floor(ms));
  for (let i = 0; i < TIME_CHARS; i++) {
    out = CROCKFORD[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

/** A new id for time `ms` (random within the millisecond). */
export function newId(ms: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(ID_LENGTH - TIME_CHARS));
  let rand = "";
  for (const b of bytes) rand += CROCKFORD[b % 32];
  return timePrefix(ms) + rand;
}

/** `id` plus one in base 32 (same length); the next possible id after it. */
function increment(id: string): string {
  const chars = id.split("");
  for (let i = chars.length - 1; i >= 0; i--) {
    const v = CROCKFORD.indexOf(chars[i]);
    if (v < 31) {
      chars[i] = CROCKFORD[v + 1];
      return chars.join("");
    }
    chars[i] = CROCKFORD[0];
  }
  throw new RangeError("Cannot make an id: the id space is exhausted");
}

/** A new id for `ms` that sorts after `last` (the sequence's newest id, "" for none). */
export function nextId(last: string, ms: number): string {
  const id = newId(ms);
  return id > last ? id : increment(last);
}

/** Whether `value` looks like an id of this module. */
export function isId(value: string): boolean {
  return value.length === ID_LENGTH && /^[0-9a-hjkmnp-tv-z]+$/.test(value);
}

/** The time an id was made at (its first 10 characters), ms. */
export function idTime(id: string): number {
  let t = 0;
  for (let i = 0; i < TIME_CHARS; i++) t = t * 32 + CROCKFORD.indexOf(id[i]);
  return t;
}
