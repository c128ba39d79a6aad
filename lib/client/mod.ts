/**
 * The client SDK, for browsers and Deno. (`signals.ts` holds the Preact hooks; import it
 * from islands only.)
 *
 * @module
 */
export * from "./types.ts";
export * from "./backoff.ts";
export * from "./client.ts";
