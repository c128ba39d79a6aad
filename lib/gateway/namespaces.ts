/**
 * Channel namespaces: the part of a channel name before the first `:` selects a policy
 * that says who may subscribe and publish, whether the stream is latest-value
 * (conflatable) or ordered, whether presence is tracked, and how much history to keep.
 */
import type { Principal } from "../auth/types.ts";

/** Who may do something on a channel. */
export type Access =
  /** Anyone, anonymous included. */
  | "public"
  /** Any signed-in user. */
  | "authenticated"
  /** The user named in the channel (`user:{userId}`). */
  | "owner"
  /** Users with the `admin` role. */
  | "admin"
  /** Nobody (server-side producers only). */
  | "none";

/** The policy of one namespace. */
export interface NamespacePolicy {
  /** Who may subscribe. */
  subscribe: Access;
  /** Who may publish from a client connection. */
  publish: Access;
  /**
   * `latest`: only the newest value matters; slow readers get the newest message per
   * channel (conflation). `ordered`: every message matters; a reader too slow to keep up
   * is disconnected with 4001 and recovers from history.
   */
  mode: "latest" | "ordered";
  /** Track presence (join / leave, `presence` queries). */
  presence: boolean;
  /** History kept by the bus: messages and time to live (ms). */
  history: { size: number; ttlMs: number };
  /** Extra validation of the part after `namespace:`; returns an error message or null. */
  validate?: (name: string) => string | null;
  /** The channel's current value, sent with `subscribed` (latest-value channels). */
  snapshot?: (name: string) => unknown;
}

/** Namespace name → policy. */
export type Namespaces = Readonly<Record<string, NamespacePolicy>>;

/** What a channel name resolves to. */
export interface ResolvedChannel {
  namespace: string;
  /** The part after `namespace:` (empty for a bare namespace like `system`). */
  name: string;
  policy: NamespacePolicy;
}

/** Splits and looks up a channel; an error message when it names no known namespace. */
export function resolveChannel(
  namespaces: Namespaces,
  channel: string,
): ResolvedChannel | { error: string } {
  const colon = channel.indexOf(":");
  const namespace = colon < 0 ? channel : channel.slice(0, colon);
  const name = colon < 0 ? "" : channel.slice(colon + 1);
  const policy = Object.hasOwn(namespaces, namespace) ? namespaces[namespace] : undefined;
  if (!policy) return { error: `Cannot use ${channel}: unknown channel namespace "${namespace}"` };
  const invalid = policy.validate?.(name) ?? null;
  if (invalid) return { error: `Cannot use ${channel}: ${invalid}` };
  return { namespace, name, policy };
}

/** Whether `principal` passes `access` on the channel `namespace:name`. */
export function allowed(
  access: Access,
  principal: Principal,
  namespace: string,
  name: string,
): boolean {
  switch (access) {
    case "public":
      return true;
    case "authenticated":
      return !principal.anonymous;
    case "owner":
      return !principal.anonymous && namespace === "user" && name === principal.userId;
    case "admin":
      return !principal.anonymous && principal.roles.includes("admin");
    case "none":
      return false;
  }
}
