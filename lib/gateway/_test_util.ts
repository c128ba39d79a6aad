/** Shared fixtures of the gateway tests: principals, namespaces, a hub on a manual clock. */
import type { Principal } from "../auth/types.ts";
import { jsonCodec } from "../protocol/codec.ts";
import { fakeTransport } from "./_fake_transport.ts";
import { Hub, type HubOptions } from "./hub.ts";
import type { Namespaces } from "./namespaces.ts";

/** A signed-in principal. */
export function user(userId: string, extra: Partial<Principal> = {}): Principal {
  return {
    userId,
    name: userId,
    anonymous: false,
    via: "token",
    expiresAt: null,
    roles: ["user"],
    ...extra,
  };
}

/** An anonymous principal. */
export function anonymous(id = "anon:1"): Principal {
  return {
    userId: id,
    name: "anonymous",
    anonymous: true,
    via: "anonymous",
    expiresAt: null,
    roles: [],
  };
}

/** Namespaces like the app's, small. */
export const TEST_NAMESPACES: Namespaces = {
  prices: {
    subscribe: "public",
    publish: "none",
    mode: "latest",
    presence: false,
    history: { size: 1, ttlMs: 1000 },
    validate: (name) => ["A", "B", "C"].includes(name) ? null : `unknown symbol "${name}"`,
    snapshot: (name) => ({ symbol: name, price: 1 }),
  },
  user: {
    subscribe: "owner",
    publish: "none",
    mode: "ordered",
    presence: false,
    history: { size: 10, ttlMs: 1000 },
  },
  room: {
    subscribe: "authenticated",
    publish: "authenticated",
    mode: "ordered",
    presence: true,
    history: { size: 10, ttlMs: 1000 },
  },
  system: {
    subscribe: "public",
    publish: "admin",
    mode: "ordered",
    presence: false,
    history: { size: 10, ttlMs: 1000 },
  },
};

/** A hub with a manual clock, plus helpers to open fake connections. */
export function testHub(options: Partial<HubOptions> = {}) {
  let now = 1_000_000;
  const hub = new Hub({
    serverId: "iso1",
    namespaces: TEST_NAMESPACES,
    now: () => now,
    ...options,
  });
  return {
    hub,
    clock: {
      now: () => now,
      advance(ms: number) {
        now += ms;
      },
    },
    connect(principal: Principal = anonymous(), codec = jsonCodec, ip = "10.0.0.1") {
      const t = fakeTransport();
      const conn = hub.open(t, { principal, codec, ip });
      const send = (message: unknown) =>
        hub.receive(
          conn,
          typeof message === "string" || message instanceof Uint8Array
            ? message
            : JSON.stringify(message),
        );
      return { t, conn, send };
    },
  };
}
