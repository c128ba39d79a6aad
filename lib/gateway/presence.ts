/**
 * Presence of one isolate: per channel, which users are subscribed and with how many
 * connections. Bounded: at most `maxMembers` users are listed per channel (the count
 * stays exact).
 */
import type { PresenceMember } from "../protocol/messages.ts";

interface Member {
  name: string;
  connections: number;
}

/** What a join / leave changed. */
export type PresenceChange = "joined" | "left" | "unchanged";

/** Presence sets of the channels that track presence. */
export class Presence {
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
  list(channel: string): { count: number; members: PresenceMember[]; truncated: boolean } {
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
}
