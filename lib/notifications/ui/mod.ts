/**
 * The browser side of notifications, used by the NotificationCenter island: the inbox
 * state over the `user:{id}` channel and the HTTP API, tab sync, validation of what
 * arrives, relative times, desktop notifications, keyboard helpers and the page hooks.
 *
 * @module
 */
export * from "./api.ts";
export * from "./desktop.ts";
export * from "./focus.ts";
export * from "./hooks.ts";
export * from "./inbox.ts";
export * from "./merge.ts";
export * from "./relative_time.ts";
export * from "./wire.ts";
