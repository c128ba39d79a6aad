/**
 * The browser side of the wallet page (`/wallet`): validation of what arrives, the feed
 * of one watched address as pure state, kept live over `wallet:{address}`, the HTTP
 * client, formatting, and the page hooks.
 *
 * @module
 */
export * from "./api.ts";
export * from "./feed.ts";
export * from "./format.ts";
export * from "./hooks.ts";
export * from "./live.ts";
export * from "./wire.ts";
