/**
 * The client SDK, for browsers and Deno: `RealtimeClient` (connection states,
 * reconnects, subscriptions with recovery, acknowledged publishes with an offline
 * queue, token refresh, JSON / MessagePack, connection quality). docs/CLIENT.md is the
 * guide. (`signals.ts` holds the Preact hooks; import it from islands only.)
 *
 * @module
 */
export * from "./types.ts";
export * from "./backoff.ts";
export * from "./client.ts";
export { PublishError, RequestError } from "./errors.ts";
export { CLIENT_DEFAULTS } from "./options.ts";
