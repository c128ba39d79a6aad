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
  equal(!bad.ok && bad.message.includes("supported realtime.v1.json, realtime.v1.msgpack"), true);
});
