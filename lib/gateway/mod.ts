/**
 * The gateway: connections, subscriptions, presence, heartbeats, limits and backpressure
 * over an abstract transport; admission of upgrades; the Deno WebSocket adapter; metrics.
 *
 * @module
 */
export * from "./transport.ts";
export * from "./hub.ts";
export * from "./limits.ts";
export * from "./namespaces.ts";
export * from "./presence.ts";
export * from "./metrics.ts";
export * from "./admission.ts";
export * from "./deno_adapter.ts";
export * from "./status.ts";
export * from "./middleware.ts";
export { DEFAULT_FLOW, type FlowOptions } from "./outbound.ts";
