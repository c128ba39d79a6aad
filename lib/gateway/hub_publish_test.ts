/** What a client may publish, and what the hub tells it when it may not (issue 10). */
import { deepStrictEqual, equal, match } from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { msgpackCodec } from "../protocol/codec.ts";
import { ErrorCode } from "../protocol/codes.ts";
import { PublishRefusal } from "./hub.ts";
import { testHub, user } from "./_test_util.ts";

type Frame = Record<string, unknown>;
const error = (f: Frame | undefined) =>
  f?.data as { code: string; message: string; temporary: boolean };

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { v };
  return v;
}

Deno.test("[hub] publish: data nested up to 32 deep passes, deeper is bad_message with the id", () => {
  const { connect } = testHub();
  const alice = connect(user("alice", { name: "Alice" }));
  alice.send({ type: "subscribe", channel: "room:r" });
  alice.send({ type: "publish", id: "ok", channel: "room:r", data: nested(32) });
  alice.send({ type: "publish", id: "deep", channel: "room:r", data: nested(33) });
  alice.send({ type: "publish", id: "deeper", channel: "room:r", data: nested(60) });
  deepStrictEqual(alice.t.ofType("ack").map((f) => f.id), ["ok"]);
  const errors = alice.t.ofType("error");
  deepStrictEqual(errors.map((f) => [f.id, error(f).code, error(f).temporary]), [
    ["deep", "bad_message", false],
    ["deeper", "bad_message", false],
  ]);
  match(error(errors[0]).message, /^Cannot publish to room:r: data nests deeper than 32 levels/);
  equal(alice.t.ofType("message").length, 1);
});

Deno.test("[hub] publish over MessagePack: binary, extensions, NaN are refused, not altered", () => {
  const { connect } = testHub();
  const bob = connect(user("bob"), msgpackCodec);
  const frame = (id: string, data: unknown) =>
    encode({ type: "publish", id, channel: "room:r", data });
  bob.send(frame("bin", { b: new Uint8Array([1, 2]) }));
  bob.send(frame("nan", [NaN]));
  bob.send(frame("date", { at: new Date(0) }));
  // An unknown extension type (5), as raw bytes inside `data`.
  const ext = encode({ type: "publish", id: "ext", channel: "room:r", data: 0 });
  const withExt = new Uint8Array([...ext.slice(0, -1), 0xd4, 0x05, 0x01]);
  bob.send(withExt);
  deepStrictEqual(
    bob.t.ofType("error").map((f) => [f.id, error(f).code]),
    [["bin", "bad_message"], ["nan", "bad_message"], ["date", "bad_message"], [
      "ext",
      "bad_message",
    ]],
  );
  equal(bob.t.ofType("ack").length, 0);
});

Deno.test("[hub] messages carry the publisher's account name (fromName) next to its id", () => {
  const { connect } = testHub();
  const reader = connect(user("reader"));
  const alice = connect(user("01JALICE", { name: "alice" }));
  reader.send({ type: "subscribe", channel: "room:r" });
  alice.send({
    type: "publish",
    id: "m1",
    channel: "room:r",
    data: { name: "bob", text: "not bob" },
  });
  const [message] = reader.t.ofType("message");
  deepStrictEqual([message.from, message.fromName], ["01JALICE", "alice"]);
});

Deno.test("[hub] a handler's PublishRefusal is a permanent error; anything else is internal", async () => {
  let refuse = true;
  const { connect } = testHub({
    onPublish() {
      if (refuse) throw new PublishRefusal(ErrorCode.PayloadTooLarge, "Cannot publish: too big");
      throw new Error("store down");
    },
  });
  const alice = connect(user("alice"));
  alice.send({ type: "publish", id: "a", channel: "room:r", data: 1 });
  await Promise.resolve();
  refuse = false;
  alice.send({ type: "publish", id: "b", channel: "room:r", data: 1 });
  await new Promise((r) => setTimeout(r, 0));
  deepStrictEqual(
    alice.t.ofType("error").map((f) => [f.id, error(f).code, error(f).temporary]),
    [["a", "payload_too_large", false], ["b", "internal", true]],
  );
});
