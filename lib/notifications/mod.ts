/**
 * Notifications: the per-user inbox in KV (store.ts), durable delivery through the job
 * queue (delivery.ts), system announcements (announce.ts), the `user:{userId}` messages
 * (events.ts) and the bounds and validation (schema.ts). See docs/NOTIFICATIONS.md.
 *
 * @module
 */
export * from "./types.ts";
export * from "./schema.ts";
export * from "./ids.ts";
export * from "./store.ts";
export * from "./events.ts";
export * from "./announce.ts";
export * from "./delivery.ts";
