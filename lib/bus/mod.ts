/**
 * The bus: KV access, key builders and leases. (Cross-isolate fan-out with history and
 * recovery arrives with the bus issue; today the price board is the only shared stream.)
 *
 * @module
 */
export * from "./keys.ts";
export * from "./kv.ts";
export * from "./lease.ts";
