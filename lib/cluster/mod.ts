/**
 * Cluster-wide state on the selected engine: liveness, presence, per-user connection
 * caps, failed-sign-in counters and leases (`createClusterState`), over a Deno KV store
 * (`createKvClusterStore`) or a Redis one (`createRedisClusterStore`).
 *
 * @module
 */
export * from "./types.ts";
export * from "./state.ts";
export * from "./presence.ts";
export * from "./slots.ts";
export * from "./cluster_state.ts";
export * from "./kv_store.ts";
export * from "./redis_store.ts";
