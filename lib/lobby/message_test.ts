import assert from "node:assert/strict";
import { MAX_TEXT, newNonce, parseLobbyMessage } from "./message.ts";

Deno.test("[lobby] parseLobbyMessage accepts lobby messages and nothing else", () => {
  const ok = { text: "hi", nonce: "n1" };
  assert.deepEqual(parseLobbyMessage(ok), ok);
  assert.deepEqual(
    parseLobbyMessage({ ...ok, name: "admin", extra: 1 }),
    ok,
    "extra fields (a claimed name included) are dropped",
  );
  for (
    const bad of [
      null,
      undefined,
      "hi",
      42,
      [ok],
      {},
      { ...ok, text: "" },
      { ...ok, text: "x".repeat(MAX_TEXT + 1) },
      { ...ok, text: 7 },
      { ...ok, nonce: "x".repeat(65) },
      { text: { toString: "x" }, nonce: "n" },
      { ...ok, nonce: null },
    ]
  ) {
    assert.equal(parseLobbyMessage(bad), null, `rejects ${JSON.stringify(bad)}`);
  }
});

Deno.test("[lobby] nonces are distinct", () => {
  const seen = new Set(Array.from({ length: 100 }, newNonce));
  assert.equal(seen.size, 100);
});
