/**
 * Wallet activity on an EVM chain (docs/WALLET.md): the chain connection (viem, an
 * embedded anvil by default), the block listener and transaction monitor run under the
 * `chain` lease, watched addresses, transfers, balances, reorgs, and the HTTP and channel
 * contract.
 *
 * @module
 */
export * from "./types.ts";
export * from "./address.ts";
export * from "./config.ts";
export * from "./watch.ts";
export * from "./service.ts";
export * from "./engine.ts";
export * from "./ingestor.ts";
export * from "./http.ts";
export * from "./view.ts";
export * from "./authorize.ts";
export { type ChainRpc, createChainRpc, RpcFailure, type RpcFailureKind } from "./rpc.ts";
