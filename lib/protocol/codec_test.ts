import { deepStrictEqual, equal } from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { decodeClientFrame, msgpackCodec, negotiateCodec } from "./codec.ts";
import { shouldReconnect } from "./codes.ts";

function errorOf(frame: string | Uint8Array) {
  const result = decodeClientFrame(frame);
  if (result.ok) throw new Error(`expected an error for ${String(frame)}`);
  return result.error;
}

Deno.test("[protocol] decodes valid client messages", () => {
  deepStrictEqual(
    decodeClientFrame('{"v":1,"type":"subscribe","id":"a1","channel":"prices:BTC-USD"}'),
    {
      ok: true,
      message: { v: 1, type: "subscribe", id: "a1", channel: "prices:BTC-USD" },
    },
  );
  deepStrictEqual(decodeClientFrame('{"type":"ping"}'), { ok: true, message: { type: "ping" } });
  deepStrictEqual(decodeClientFrame('{"type":"unsubscribe","channel":"prices:ETH-USD"}'), {
    ok: true,
    message: { type: "unsubscribe", channel: "prices:ETH-USD" },
  });
});

Deno.test("[protocol] malformed JSON is a permanent bad_frame error", () => {
  const error = errorOf("{not json");
  equal(error.code, "bad_frame");
  equal(error.temporary, false);
  equal(error.message.startsWith("Cannot decode frame: invalid json ("), true);
});

Deno.test("[protocol] binary frames are refused with bad_frame", () => {
  equal(errorOf(new Uint8Array([0xff, 0x00, 0x13])).code, "bad_frame");
});

Deno.test("[protocol] non-object JSON is bad_message", () => {
  for (const frame of ["[]", "42", '"subscribe"', "null"]) {
    equal(errorOf(frame).code, "bad_message");
  }
});

Deno.test("[protocol] unknown type names the allowed types and echoes the id", () => {
  const error = errorOf('{"type":"launch","id":"x9"}');
  equal(error.code, "unknown_type");
  equal(error.id, "x9");
  equal(
    error.message.includes("subscribe, unsubscribe, publish, presence, ping, pong, refresh"),
    true,
  );
});

Deno.test("[protocol] wrong field types and extra fields are bad_message with the field named", () => {
  const wrong = errorOf('{"type":"subscribe","id":"q","channel":42}');
  equal(wrong.code, "bad_message");
  equal(wrong.id, "q");
  equal(wrong.message.includes('field "channel"'), true);
  equal(errorOf('{"type":"subscribe","channel":"prices:BTC-USD","extra":1}').code, "bad_message");
  equal(errorOf('{"type":"subscribe","channel":"no spaces allowed"}').code, "bad_message");
  equal(errorOf('{"v":2,"type":"ping"}').code, "bad_message");
  equal(errorOf('{"id":"only-id"}').code, "bad_message");
});

Deno.test("[protocol] close codes: 4500-4999 terminal, everything else reconnects", () => {
  equal(shouldReconnect(1006), true);
  equal(shouldReconnect(4000), true);
  equal(shouldReconnect(4499), true);
  equal(shouldReconnect(4500), false);
  equal(shouldReconnect(4999), false);
});

Deno.test("[protocol] MessagePack frames decode; text or garbage on a msgpack connection is bad_frame", () => {
  deepStrictEqual(
    decodeClientFrame(
      encode({ type: "publish", id: "p", channel: "room:x", data: { n: 1 } }),
      msgpackCodec,
    ),
    {
      ok: true,
      message: { type: "publish", id: "p", channel: "room:x", data: { n: 1 } },
    },
  );
  const text = decodeClientFrame('{"type":"ping"}', msgpackCodec);
  equal(!text.ok && text.error.code, "bad_frame");
  equal(
    !text.ok && text.error.message,
    "Cannot decode frame: text frames are not accepted on a msgpack connection, send MessagePack binary frames",
  );
  const garbage = decodeClientFrame(new Uint8Array([0xc1, 0xff]), msgpackCodec);
  equal(!garbage.ok && garbage.error.code, "bad_frame");
});

Deno.test("[protocol] publish needs an id and data; refresh needs a token", () => {
  equal(
    errorOf('{"type":"publish","channel":"room:x","data":1}').message,
    'Cannot decode publish: field "id" Invalid input: expected string, received undefined',
  );
  equal(errorOf('{"type":"publish","id":"a","channel":"room:x"}').code, "bad_message");
  equal(errorOf('{"type":"refresh","id":"a"}').code, "bad_message");
});

Deno.test("[protocol] subprotocol negotiation", () => {
  const none = negotiateCodec(null);
  equal(none.ok && none.codec.name, "json");
  equal(none.ok && none.protocol, undefined);
  const pick = negotiateCodec("foo, realtime.v1.msgpack, realtime.v1.json");
  equal(pick.ok && pick.protocol, "realtime.v1.msgpack");
  const bearerOnly = negotiateCodec("bearer.eyJ.abc");
  equal(bearerOnly.ok && bearerOnly.codec.name, "json");
  const bad = negotiateCodec("realtime.v2.json");
  equal(bad.ok, false);
  equal(
    !bad.ok &&
      bad.message.includes(
        "supported realtime.v1.json, realtime.v1.json.batch, realtime.v1.msgpack, realtime.v1.msgpack.batch",
      ),
    true,
  );
  // The batching variant: the client's first offer the server speaks wins, and says so.
  const batch = negotiateCodec("realtime.v1.msgpack.batch, realtime.v1.msgpack");
  equal(batch.ok && batch.codec.name, "msgpack");
  equal(batch.ok && batch.protocol, "realtime.v1.msgpack.batch");
  equal(batch.ok && batch.batch, true);
  const plain = negotiateCodec("realtime.v1.json, realtime.v1.json.batch");
  equal(plain.ok && plain.batch, false);
  equal(negotiateCodec("realtime.v1.batch").ok, false);
  equal(negotiateCodec("realtime.v1.json.batch.batch").ok, false);
  // A flood of offers gets a bounded refusal.
  const flood = negotiateCodec(Array.from({ length: 2_000 }, (_, i) => `x${i}.batch`).join(", "));
  equal(!flood.ok && flood.message.length < 500, true, "the refusal stays short");
});

Deno.test("[protocol] MessagePack bombs: declared lengths beyond the frame fail at once", () => {
  const bombs = [
    [0xdd, 0xff, 0xff, 0xff, 0xff], // array of 2^32 - 1 elements
    [0xdf, 0xff, 0xff, 0xff, 0xff], // map of 2^32 - 1 entries
    [0xdb, 0xff, 0xff, 0xff, 0xff, 0x61], // string of 4 GiB
    [0xc6, 0x7f, 0xff, 0xff, 0xff], // binary of 2 GiB
    [0xc9, 0x7f, 0xff, 0xff, 0xff, 0x05], // extension of 2 GiB
    [0x81, 0xdd, 0x00, 0x10, 0x00, 0x00, 0xc0], // a map key that is a 1M-element array
  ];
  for (const bytes of bombs) {
    const started = performance.now();
    const result = decodeClientFrame(new Uint8Array(bytes), msgpackCodec);
    equal(!result.ok && result.error.code, "bad_frame", bytes.join(","));
    equal(performance.now() - started < 50, true, "refused without allocating");
  }
  // A "__proto__" map key is refused by the decoder itself.
  const proto = decodeClientFrame(
    new Uint8Array([0x81, 0xa9, ...new TextEncoder().encode("__proto__"), 0xc0]),
    msgpackCodec,
  );
  equal(!proto.ok && proto.error.code, "bad_frame");
  // Trailing bytes after the message.
  const extra = decodeClientFrame(
    new Uint8Array([...encode({ type: "ping" }), 0xc0]),
    msgpackCodec,
  );
  equal(!extra.ok && extra.error.code, "bad_frame");
});

Deno.test("[protocol] frames nested deeper than 64 levels are refused before decoding", () => {
  const deep = `{"type":"publish","id":"p","channel":"room:x","data":${"[".repeat(3_600)}1${
    "]".repeat(3_600)
  }}`;
  const json = decodeClientFrame(deep);
  equal(!json.ok && json.error.code, "bad_message");
  equal(!json.ok && json.error.temporary, false);
  equal(!json.ok && json.error.message.includes("deeper than 64 levels"), true);
  const bytes = new Uint8Array(60_001).fill(0x91);
  bytes[60_000] = 0xc0;
  const msgpack = decodeClientFrame(bytes, msgpackCodec);
  equal(!msgpack.ok && msgpack.error.code, "bad_message");
  // 62 levels of data inside the envelope still decode (the publish check refuses them
  // with the message's id).
  const shallow = `{"type":"publish","id":"p","channel":"room:x","data":${"[".repeat(62)}1${
    "]".repeat(62)
  }}`;
  equal(decodeClientFrame(shallow).ok, true);
});

Deno.test("[protocol] error messages stay short whatever the frame holds", () => {
  const longKey = "k".repeat(30_000);
  const error = errorOf(`{"type":"ping","${longKey}":1}`);
  equal(error.code, "bad_message");
  equal(error.message.length < 400, true, `${error.message.length} characters`);
});
