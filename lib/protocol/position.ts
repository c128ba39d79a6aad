/**
 * Where a channel stands, and what recovering from a position answers: one definition
 * for the server (the bus engines, the hub) and the client SDK. Types only.
 */

/**
 * A channel's position: its epoch and an offset within it. Sent by the server in
 * `subscribed`, `message`, `ack` and `history`, and by a client as `subscribe.since`
 * (validated by `PositionSchema`, messages.ts).
 */
export interface Position {
  /**
   * Changes only when the channel's history was lost or expired. A channel with no
   * message kept (never published, or everything expired) is at offset 0 of an epoch
   * that is not stored anywhere; its first message starts a new epoch.
   */
  epoch: string;
  /** The offset of the last message (0 before the first). */
  offset: number;
}

/**
 * The answer to a recovery request (`subscribe.since`): everything after `since`, or
 * nothing (never a partial replay) when the history does not reach back that far or the
 * epoch changed. `M` is how a message is carried (the bus's `BusMessage`).
 */
export type Recovery<M> =
  | { recovered: true; position: Position; messages: M[] }
  | { recovered: false; position: Position };

/**
 * What a subscriber is told of a recovery (in `subscribed`): whether every missed message
 * follows, and the channel's position. The messages themselves follow as `message` frames.
 */
export type RecoveryOutcome = Omit<Recovery<never>, "messages">;
