/**
 * Deno KV for the whole application: opening it (`openKv`, retrying while another
 * isolate holds SQLite's write lock), every key it uses (`keys.ts`, the key space in one
 * table) and singleton leases with expiry (`tryAcquireLease`, `kvLeases`). Pub/sub on KV
 * is the bus's (lib/bus/kv_bus.ts).
 *
 * @module
 */
export * from "./open.ts";
export * from "./keys.ts";
export * from "./lease.ts";
