/**
 * The application's channel namespaces and their policies (see docs/PROTOCOL.md,
 * "Channels"). The gateway enforces them; producers publish into them.
 */
import type { Namespaces } from "../gateway/namespaces.ts";
import type { PriceBoard } from "../prices/types.ts";

const ROOM = /^[A-Za-z0-9_.-]{1,64}$/;
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** What the policies need to know about the rest of the app. */
export interface ChannelDeps {
  /** Symbols the market knows. */
  symbols: ReadonlySet<string>;
  /** The newest price board of this isolate. */
  board: () => PriceBoard | null;
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
