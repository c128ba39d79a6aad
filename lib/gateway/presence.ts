/**
 * Presence: per channel, which users are subscribed and with how many connections.
 * {@linkcode Presence} holds one isolate's; a {@linkcode PresenceTracker} is what the hub
 * asks (this isolate's by default, the cluster's in the app: lib/cluster/presence.ts).
 * Bounded: at most `maxMembers` users are listed per channel (the count stays exact).
 */
import type { PresenceMember } from "../protocol/messages.ts";

/** What a `presence` request answers. */
export interface PresenceList {
  /** Distinct users present. */
  count: number;
  /** At most the limit, oldest first. */
  members: PresenceMember[];
  /** More users are present than listed. */
  truncated: boolean;
}

/**
 * Who is present on presence channels, as the hub needs it. `join` / `leave` are called
 * once per connection subscribing / unsubscribing; they say whether the hub should send
 * a `join` / `leave` to the channel's local subscribers (once per user as the tracker
 * sees it). A tracker may answer later (a promise) when it must first learn who else is
 * present; changes it learns of otherwise (other isolates) it sends through the
 * {@linkcode PresenceAnnouncer} it was created with.
 */
export interface PresenceTracker {
  join(channel: string, userId: string, name: string): PresenceChange | Promise<PresenceChange>;
  leave(channel: string, userId: string): PresenceChange | Promise<PresenceChange>;
  list(channel: string): PresenceList | Promise<PresenceList>;
  /** Distinct users this isolate knows to be present (no I/O). */
  count(channel: string): number;
}

/** Sends a `join` / `leave` to the local subscribers of `channel` (the hub's). */
export type PresenceAnnouncer = (
  channel: string,
  change: "joined" | "left",
  member: { userId: string; name: string },
) => void;

/** One user present on a channel of this isolate. */
export interface LocalMember {
  readonly name: string;
  readonly connections: number;
}

interface Member {
  name: string;
  connections: number;
}

/** What a join / leave changed. */
export type PresenceChange = "joined" | "left" | "unchanged";

/** Presence sets of one isolate's channels that track presence. */
export class Presence implements PresenceTracker {
  #channels = new Map<string, Map<string, Member>>();

  constructor(readonly maxMembers: number) {}

  /** Adds one connection of `userId`; `joined` when it is the user's first on the channel. */
  join(channel: string, userId: string, name: string): PresenceChange {
    let members = this.#channels.get(channel);
    if (!members) this.#channels.set(channel, members = new Map());
    const member = members.get(userId);
    if (member) {
      member.connections++;
      return "unchanged";
    }
    members.set(userId, { name, connections: 1 });
    return "joined";
  }

  /** Removes one connection of `userId`; `left` when it was the user's last. */
  leave(channel: string, userId: string): PresenceChange {
    const members = this.#channels.get(channel);
    const member = members?.get(userId);
    if (!members || !member) return "unchanged";
    if (--member.connections > 0) return "unchanged";
    members.delete(userId);
    if (members.size === 0) this.#channels.delete(channel);
    return "left";
  }

  /** Members (at most `maxMembers`, oldest first) and the exact count. */
  list(channel: string): PresenceList {
    const members = this.#channels.get(channel);
    if (!members) return { count: 0, members: [], truncated: false };
    const out: PresenceMember[] = [];
    for (const [userId, m] of members) {
      if (out.length >= this.maxMembers) break;
      out.push({ userId, name: m.name, connections: m.connections });
    }
    return { count: members.size, members: out, truncated: members.size > out.length };
  }

  /** Number of distinct users present on `channel`. */
  count(channel: string): number {
    return this.#channels.get(channel)?.size ?? 0;
  }

  /** This isolate's members of `channel` (user id → name, connections), oldest first. */
  members(channel: string): ReadonlyMap<string, LocalMember> {
    return this.#channels.get(channel) ?? EMPTY;
  }

  /** Channels with at least one member here. */
  channels(): IterableIterator<string> {
    return this.#channels.keys();
  }
}

const EMPTY: ReadonlyMap<string, LocalMember> = new Map();
