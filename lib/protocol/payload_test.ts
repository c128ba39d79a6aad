import { equal, match } from "node:assert/strict";
import { decode } from "@msgpack/msgpack";
import { MAX_PAYLOAD_DEPTH } from "./limits.ts";
import { payloadProblem } from "./payload.ts";

function arrays(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

function objects(depth: number): unknown {
  let v: unknown = "leaf";
  for (let i = 0; i < depth; i++) v = { [`k${i}`]: v, n: i };
  return v;
}

Deno.test("[payload] JSON values pass, whatever their shape", () => {
  for (
    const data of [
      null,
      0,
      -0,
      1.5,
      -1e308,
      "",
      "text",
      true,
      [],
      {},
      { text: "hi", n: [1, 2, { a: null }] },
      JSON.parse('{"__proto__": {"polluted": 1}}'),
      Object.create(null),
    ]
  ) {
    equal(payloadProblem(data), null, JSON.stringify(data));
  }
});

Deno.test("[payload] nesting: 32 levels pass, 33 do not, in arrays and in objects", () => {
  equal(payloadProblem(arrays(MAX_PAYLOAD_DEPTH)), null);
  equal(payloadProblem(objects(MAX_PAYLOAD_DEPTH)), null);
  match(payloadProblem(arrays(MAX_PAYLOAD_DEPTH + 1))!, /deeper than 32 levels/);
  match(payloadProblem(objects(MAX_PAYLOAD_DEPTH + 1))!, /deeper than 32 levels/);
  // The attack (3 600 deep), and far deeper: no stack is exhausted.
  match(payloadProblem(arrays(3_600))!, /deeper than 32/);
  match(payloadProblem(arrays(200_000))!, /deeper than 32/);
  // Depth is per path, not the number of containers.
  equal(payloadProblem(Array.from({ length: 5_000 }, () => arrays(30))), null);
});

Deno.test("[payload] values only MessagePack can carry are refused, with what they are", () => {
  match(payloadProblem({ b: new Uint8Array(4) })!, /binary value/);
  match(payloadProblem([new Date(0)])!, /timestamp/);
  match(payloadProblem(NaN)!, /NaN, which JSON cannot carry/);
  match(payloadProblem([Infinity])!, /Infinity/);
  match(payloadProblem({ x: -Infinity })!, /-Infinity/);
  match(payloadProblem(10n)!, /bigint/);
  match(payloadProblem(undefined)!, /undefined/);
  match(payloadProblem([() => 1])!, /function/);
  match(payloadProblem(new Map())!, /Map value/);
  // As decoded from the wire: a timestamp (ext -1) and an unknown extension type (5).
  const timestamp = decode(new Uint8Array([0xd6, 0xff, 0, 0, 0, 1]));
  match(payloadProblem({ at: timestamp })!, /timestamp/);
  const ext = decode(new Uint8Array([0xd4, 0x05, 0x01]));
  match(payloadProblem([ext])!, /ExtData value/);
});
