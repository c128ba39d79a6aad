/**
 * Prices: the simulated market, the KV price board and the producer that feeds it.
 *
 * @module
 */
export * from "./types.ts";
export * from "./simulated.ts";
export * from "./store.ts";
export * from "./producer.ts";
export * from "./format.ts";
