import { deepStrictEqual } from "node:assert/strict";
import type { ServerMessage } from "../protocol/messages.ts";
import { Subscriptions } from "./subscriptions.ts";
import type { MessageMeta } from "./types.ts";

type Published = Extract<ServerMessage, { type: "message" }>;

function message(epoch: string, offset: number, extra: Partial<Published> = {}): Published {
  return { v: 1, type: "message", channel: "room:r", ts: 5, data: offset, epoch, offset, ...extra };
}

function setup() {
  const events: string[] = [];
  const metas: MessageMeta[] = [];
  const subs = new Subscriptions(() => true);
  subs.add<number>("room:r", {
    onMessage(data, meta) {
      events.push(`message ${meta.epoch}/${data}`);
      metas.push(meta);
    },
    onReset: () => events.push("reset"),
  });
  return { subs, events, metas };
}

Deno.test("[subscriptions] the server's fromName reaches the handler's meta", () => {
  const { subs, metas } = setup();
  subs.message(message("e1", 1, { from: "01J", fromName: "alice" }));
  deepStrictEqual(metas, [{ ts: 5, offset: 1, epoch: "e1", from: "01J", fromName: "alice" }]);
});

Deno.test("[subscriptions] a live message of a new epoch resets what the old one built", () => {
  const { subs, events } = setup();
  // An empty channel (offset 0 of its empty epoch) getting its first message: no reset.
  subs.subscribed({
    v: 1,
    type: "subscribed",
    channel: "room:r",
    data: { epoch: "v1a", offset: 0 },
  });
  subs.message(message("e1", 1));
  subs.message(message("e1", 2));
  subs.message(message("e1", 2)); // a duplicate: dropped
  // The history expired and the channel started again: offsets restart in a new epoch.
  subs.message(message("e2", 1));
  subs.message(message("e2", 2));
  deepStrictEqual(events, [
    "message e1/1",
    "message e1/2",
    "reset",
    "message e2/1",
    "message e2/2",
  ]);
});
