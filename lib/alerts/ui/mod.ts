/**
 * The browser side of alert rules, used by the AlertForm and AlertRules islands: the
 * HTTP client, validation of what arrives, and the form as data.
 *
 * @module
 */
export * from "./api.ts";
export * from "./form.ts";
export * from "./hooks.ts";
export * from "./wire.ts";
