import { deepStrictEqual, equal } from "node:assert/strict";
import { decodeClientFrame } from "./codec.ts";
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
  equal(error.message.startsWith("Cannot decode frame: invalid JSON"), true);
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
  equal(error.message.includes("subscribe, unsubscribe, ping"), true);
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
