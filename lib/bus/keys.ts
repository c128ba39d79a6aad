/**
 * Every Deno KV key the application uses is built here, so the key space is
 * documented in one place and no module invents keys of its own.
 *
 * | key                        | value                         | written by        |
 * | -------------------------- | ----------------------------- | ----------------- |
 * | `["prices", "board"]`      | {@linkcode PriceBoard}         | market producer   |
 * | `["lease", name]`          | {@linkcode LeaseRecord}        | lease holders     |
 */

/** The latest quote of every symbol, one value (well under KV's 64 KiB limit). */
export function priceBoardKey(): Deno.KvKey {
  return ["prices", "board"];
}

/** A named singleton lease (e.g. `market`). */
export function leaseKey(name: string): Deno.KvKey {
  return ["lease", name];
}
