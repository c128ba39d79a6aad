/**
 * The bus: cross-isolate fan-out with per-channel history and recovery on KV
 * (`createKvBus`) or Redis (`createRedisBus`; connections from `openRedis`), and durable
 * jobs (`createJobQueue`). Opening KV, its keys and leases are lib/kv's.
 *
 * @module
 */
export * from "./engine.ts";
export * from "./kv_bus.ts";
export * from "./redis.ts";
export * from "./redis_bus.ts";
export * from "./jobs.ts";
