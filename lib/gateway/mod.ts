/**
 * The gateway: connections, subscriptions and routing over an abstract transport,
 * plus the Deno WebSocket adapter.
 *
 * @module
 */
export * from "./transport.ts";
export * from "./hub.ts";
export * from "./deno_adapter.ts";
