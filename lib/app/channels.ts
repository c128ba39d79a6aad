/**
 * The application's channel namespaces and their policies (see docs/PROTOCOL.md,
 * "Channels"). The gateway enforces them; producers publish into them.
 */
import type { Namespaces } from "../gateway/namespaces.ts";
import type { PriceBoard } from "../prices/types.ts";
import { parseAddress } from "../wallet/address.ts";
import type { ChainStatus } from "../wallet/types.ts";

const ROOM = /^[A-Za-z0-9_.-]{1,64}$/;
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** What the policies need to know about the rest of the app. */
export interface ChannelDeps {
  /** Symbols the market knows. */
  symbols: ReadonlySet<string>;
  /** The newest price board of this isolate. */
  board: () => PriceBoard | null;
  /** The chain's status (`chain:status` snapshot); absent: no chain channel snapshot. */
  chainStatus?: () => ChainStatus;
}

/** The channel of one user's notifications (`user:{userId}`, namespace `user` below). */
export function userChannel(userId: string): string {
  return `user:${userId}`;
}

/** Builds the namespaces. */
export function appNamespaces(deps: ChannelDeps): Namespaces {
  return {
    /** `prices:{SYMBOL}`: one pair's quotes. Public, server-published, latest value. */
    prices: {
      subscribe: "public",
      publish: "none",
      mode: "latest",
      presence: false,
      history: { size: 1, ttlMs: MINUTE },
      validate: (name) => deps.symbols.has(name) ? null : `unknown symbol "${name}"`,
      snapshot: (name) => deps.board()?.quotes[name],
    },
    /**
     * `candles:{SYMBOL}` (the open 1 m candle) and `candles:{SYMBOL}@1h` (the open hour).
     * Public, server-published, latest value.
     */
    candles: {
      subscribe: "public",
      publish: "none",
      mode: "latest",
      presence: false,
      history: { size: 1, ttlMs: MINUTE },
      validate(name) {
        const at = name.indexOf("@");
        const symbol = at < 0 ? name : name.slice(0, at);
        if (!deps.symbols.has(symbol)) return `unknown symbol "${symbol}"`;
        if (at >= 0 && name.slice(at) !== "@1h") return "the interval is @1h or none (1 m)";
        return null;
      },
      snapshot: (name) => deps.board()?.candles?.[name],
    },
    /** `market:overview`: the market overview. Public, server-published, latest value. */
    market: {
      subscribe: "public",
      publish: "none",
      mode: "latest",
      presence: false,
      history: { size: 1, ttlMs: MINUTE },
      validate: (name) => name === "overview" ? null : "the only market channel is market:overview",
      snapshot: () => deps.board()?.overview,
    },
    /**
     * `wallet:{address}` (EIP-55 checksummed): an address's activity items, balances and
     * reorgs (lib/wallet/types.ts). Signed-in users who watch the address read (the watch
     * is checked by lib/wallet/authorize.ts); the chain listener publishes.
     */
    wallet: {
      subscribe: "authenticated",
      publish: "none",
      mode: "ordered",
      presence: false,
      history: { size: 200, ttlMs: DAY },
      validate(name) {
        const parsed = parseAddress(name);
        if (!parsed.ok) return parsed.message;
        return parsed.address === name ? null : `use the checksummed address ${parsed.address}`;
      },
    },
    /** `chain:status`: the chain's connection, head and reorgs. Public, latest value. */
    chain: {
      subscribe: "public",
      publish: "none",
      mode: "latest",
      presence: false,
      history: { size: 1, ttlMs: MINUTE },
      validate: (name) => name === "status" ? null : "the only chain channel is chain:status",
      snapshot: () => deps.chainStatus?.(),
    },
    /** `user:{userId}`: one user's notifications. Only that user reads; server publishes. */
    user: {
      subscribe: "owner",
      publish: "none",
      mode: "ordered",
      presence: false,
      history: { size: 100, ttlMs: 7 * DAY },
      validate: (name) => name.length > 0 ? null : "a user id is required",
    },
    /** `presence:{room}`: who is here, plus messages between signed-in members. */
    presence: {
      subscribe: "authenticated",
      publish: "authenticated",
      mode: "ordered",
      presence: true,
      history: { size: 50, ttlMs: 10 * MINUTE },
      validate: (name) => ROOM.test(name) ? null : "a room is 1-64 of A-Z a-z 0-9 _ . -",
    },
    /** `system`: announcements to everyone; only admins publish. */
    system: {
      subscribe: "public",
      publish: "admin",
      mode: "ordered",
      presence: false,
      history: { size: 20, ttlMs: DAY },
      validate: (name) => name === "" ? null : "the system channel has no sub-channels",
    },
  };
}
