import { equal, match, notEqual, ok } from "node:assert/strict";
import {
  constantTimeEqual,
  fromBase64,
  randomBytes,
  toBase64,
  toBase64Url,
  ulid,
} from "./_util.ts";

Deno.test("[auth] base64 round trip and url-safe form", () => {
  const bytes = new Uint8Array([0, 251, 255, 62, 63]);
  const text = toBase64(bytes);
  equal(text, "APv/Pj8=");
  equal(fromBase64(text)?.join(","), bytes.join(","));
  equal(toBase64Url(bytes), "APv_Pj8");
  equal(fromBase64("not base64!"), null);
});

Deno.test("[auth] constantTimeEqual compares contents and lengths", () => {
  ok(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3])));
  ok(!constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4])));
  ok(!constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2])));
  ok(!constantTimeEqual(new Uint8Array([]), new Uint8Array([0])));
  equal(randomBytes(32).length, 32);
});

Deno.test("[auth] ulid is 26 Crockford characters ordered by time", () => {
  const a = ulid(1_700_000_000_000);
  const b = ulid(1_700_000_000_001);
  match(a, /^[0-9A-HJKMNP-TV-Z]{26}$/);
  ok(a < b);
  notEqual(ulid(5), ulid(5));
  equal(ulid(0).slice(0, 10), "0000000000");
});
