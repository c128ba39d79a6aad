/**
 * Alert rules: validation (schema.ts), storage (store.ts), evaluation (evaluate.ts), the
 * price engine under the `alerts` lease (engine.ts), wallet events (wallet.ts) and the
 * firing outbox (outbox.ts). See docs/ALERTS.md.
 *
 * @module
 */
export * from "./types.ts";
export * from "./schema.ts";
export * from "./evaluate.ts";
export * from "./history.ts";
export * from "./store.ts";
export * from "./outbox.ts";
export * from "./engine.ts";
export * from "./wallet.ts";
