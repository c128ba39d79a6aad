/**
 * The wire protocol shared by the gateway and the client SDK. Imports nothing
 * server-only: it is bundled into browser islands as is.
 *
 * @module
 */
export * from "./codes.ts";
export * from "./limits.ts";
export * from "./messages.ts";
export * from "./position.ts";
export * from "./codec.ts";
export * from "./payload.ts";
export * from "./delta.ts";
