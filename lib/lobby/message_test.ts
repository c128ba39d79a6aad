import assert from "node:assert/strict";
import { MAX_TEXT, newNonce, parseLobbyMessage } from "./message.ts";

Deno.test("[lobby] parseLobbyMessage accepts lobby messages and nothing else", () => {
  const ok = { text: "hi", name: "ada", nonce: "n1" };
  assert.deepEqual(parseLobbyMessage(ok), ok);
  assert.deepEqual(parseLobbyMessage({ ...ok, extra: 1 }), ok, "extra fields are dropped");
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
      { ...ok, name: { toString: "x" } },
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
