/**
 * The bus: KV access and key builders, leases, cross-isolate fan-out with per-channel
 * history and recovery (`createKvBus`), and durable jobs (`createJobQueue`).
 *
 * @module
 */
export * from "./keys.ts";
export * from "./kv.ts";
export * from "./lease.ts";
export * from "./engine.ts";
export * from "./kv_bus.ts";
export * from "./jobs.ts";
