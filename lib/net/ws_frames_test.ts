import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { clientClose, clientFrame, closePayload, parseServerFrames } from "./_ws_test_util.ts";
import {
  encodeClose,
  encodeFrame,
  encodeText,
  type FrameEvent,
  FrameReader,
  Opcode,
} from "./ws_frames.ts";

/** Feeds `bytes` to `reader` in chunks of `chunk` bytes and collects every event. */
function feed(reader: FrameReader, bytes: Uint8Array, chunk = bytes.length): FrameEvent[] {
  const events: FrameEvent[] = [];
  let at = 0;
  while (at < bytes.length && !events.some((e) => e.kind === "violation")) {
    const space = reader.space();
    if (space.length === 0) throw new Error("Cannot feed the reader: its buffer is full");
    const n = Math.min(space.length, chunk, bytes.length - at);
    space.set(bytes.subarray(at, at + n));
    reader.commit(n);
    at += n;
    for (let e = reader.next(); e; e = reader.next()) events.push(e);
  }
  return events;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const reader = (max = 65_536) => new FrameReader({ maxMessageBytes: max, initialBytes: 64 });

Deno.test("[ws frames] text, binary, ping, pong and close, whole or a byte at a time", () => {
  const bytes = concat(
    clientFrame(Opcode.Text, "héllo"),
    clientFrame(Opcode.Binary, new Uint8Array([1, 2, 3])),
    clientFrame(Opcode.Ping, "p"),
    clientFrame(Opcode.Pong),
    clientFrame(Opcode.Text, "x".repeat(300)),
    clientClose(4000, "bye"),
  );
  for (const chunk of [bytes.length, 1, 7]) {
    const events = feed(reader(), bytes, chunk);
    assertEquals(events.map((e) => e.kind), ["text", "binary", "ping", "pong", "text", "close"]);
    assertEquals(events[0], { kind: "text", data: "héllo" });
    assertEquals(events[1], { kind: "binary", data: new Uint8Array([1, 2, 3]) });
    assertEquals(events[4], { kind: "text", data: "x".repeat(300) });
    assertEquals(events[5], { kind: "close", code: 4000, reason: "bye" });
  }
});

Deno.test("[ws frames] fragmented messages are reassembled, with control frames between", () => {
  const bytes = concat(
    clientFrame(Opcode.Text, "ab", { fin: false }),
    clientFrame(Opcode.Ping, "p"),
    clientFrame(Opcode.Continuation, "cd", { fin: false }),
    clientFrame(Opcode.Continuation, "ef"),
  );
  const events = feed(reader(), bytes, 3);
  assertEquals(events, [{ kind: "ping", data: new TextEncoder().encode("p") }, {
    kind: "text",
    data: "abcdef",
  }]);
});

Deno.test("[ws frames] each protocol violation is named with its close code", () => {
  const cases: [string, Uint8Array, number][] = [
    ["unmasked frame", clientFrame(Opcode.Text, "hi", { mask: false }), 1002],
    ["reserved opcode 3", clientFrame(3, "x"), 1002],
    ["reserved opcode 11", clientFrame(11, "x"), 1002],
    ["RSV1 without an extension", clientFrame(Opcode.Text, "x", { rsv: 4 }), 1002],
    ["fragmented ping", clientFrame(Opcode.Ping, "x", { fin: false }), 1002],
    ["ping over 125 bytes", clientFrame(Opcode.Ping, new Uint8Array(126)), 1002],
    ["continuation first", clientFrame(Opcode.Continuation, "x"), 1002],
    ["invalid UTF-8", clientFrame(Opcode.Text, new Uint8Array([0xc3, 0x28])), 1007],
    ["close with 1 byte", clientFrame(Opcode.Close, new Uint8Array([3])), 1002],
    ["close code 999", clientClose(999), 1002],
    ["close code 1005", clientClose(1005), 1002],
    ["close reason not UTF-8", clientFrame(Opcode.Close, new Uint8Array([3, 232, 0xff])), 1007],
    ["2 GiB declared", clientFrame(Opcode.Binary, new Uint8Array(4), { declared: 2 ** 31 }), 1009],
    ["64-bit top bit", concat(new Uint8Array([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0])), 1002],
  ];
  for (const [name, bytes, code] of cases) {
    const events = feed(reader(), bytes);
    assertEquals(events.length, 1, name);
    assertEquals(events[0].kind, "violation", name);
    assertEquals((events[0] as { code: number }).code, code, name);
    // After a violation the reader reports nothing more.
    assertEquals(feed(reader(), concat(bytes, clientFrame(Opcode.Text, "x"))).length, 1, name);
  }
  const nested = concat(
    clientFrame(Opcode.Text, "a", { fin: false }),
    clientFrame(Opcode.Text, "b"),
  );
  assertEquals(feed(reader(), nested).map((e) => e.kind), ["violation"]);
});

Deno.test("[ws frames] an oversized frame is refused at its header, before the payload", () => {
  const r = reader(1_000);
  // Only the 4-byte header of a 1 001-byte frame (no mask key, no payload) has arrived.
  const header = clientFrame(Opcode.Binary, new Uint8Array(1_001)).subarray(0, 4);
  const events = feed(r, header);
  assertEquals(events.length, 1);
  assertEquals(events[0].kind, "violation");
  assertEquals((events[0] as { code: number }).code, 1009);
  // Fragments count together.
  const parts = concat(
    clientFrame(Opcode.Binary, new Uint8Array(600), { fin: false }),
    clientFrame(Opcode.Continuation, new Uint8Array(600)).subarray(0, 4),
  );
  assertEquals(feed(reader(1_000), parts).map((e) => e.kind), ["violation"]);
});

Deno.test("[ws frames] the buffer grows for a declared frame within the budget, then shrinks", () => {
  let reserved = 0;
  let allow = 1_000_000;
  const r = new FrameReader({
    maxMessageBytes: 65_536,
    initialBytes: 64,
    reserve(n) {
      if (n > 0 && reserved + n > allow) return false;
      reserved += n;
      return true;
    },
  });
  const frame = clientFrame(Opcode.Binary, new Uint8Array(10_000));
  // Half of it: the room for the whole frame is reserved, half is pending.
  assertEquals(feed(r, frame.subarray(0, 5_000)), []);
  assertEquals(r.pendingBytes, 5_000);
  assertEquals(reserved > 9_000, true);
  assertEquals(feed(r, frame.subarray(5_000)).map((e) => e.kind), ["binary"]);
  assertEquals(r.pendingBytes, 0);
  assertEquals(reserved, 0);
  // A budget that cannot cover the frame: 1013.
  allow = 1_000;
  const events = feed(r, frame.subarray(0, 100));
  assertEquals(events.map((e) => e.kind), ["violation"]);
  assertEquals((events[0] as { code: number }).code, 1013);
  r.release();
  assertEquals(reserved, 0);
});

Deno.test("[ws frames] fragments count against the budget and are given back", () => {
  let reserved = 0;
  const r = new FrameReader({
    maxMessageBytes: 65_536,
    initialBytes: 64,
    reserve(n) {
      reserved += n;
      return true;
    },
  });
  feed(r, clientFrame(Opcode.Binary, new Uint8Array(50), { fin: false }));
  assertEquals(reserved, 50);
  assertEquals(r.pendingBytes, 50);
  feed(r, clientFrame(Opcode.Continuation, new Uint8Array(10)));
  assertEquals(reserved, 0);
  feed(r, clientFrame(Opcode.Binary, new Uint8Array(50), { fin: false }));
  r.release();
  assertEquals(reserved, 0);
});

Deno.test("[ws frames] server frames: lengths of 7, 16 and 64 bits; close reasons are cut", () => {
  for (const n of [0, 125, 126, 65_535, 65_536]) {
    const { frames, rest } = parseServerFrames(encodeFrame(Opcode.Binary, new Uint8Array(n)));
    assertEquals(rest.length, 0);
    assertEquals(frames[0].payload.length, n);
    assertEquals(frames[0].fin, true);
  }
  const long = parseServerFrames(encodeClose(4001, "é".repeat(100))).frames[0];
  assertEquals(long.payload.length <= 125, true);
  assertEquals(closePayload(long.payload).code, 4001);
  assertEquals(closePayload(long.payload).reason, "é".repeat(61));
  const text = parseServerFrames(encodeText("hi")).frames[0];
  assertEquals(new TextDecoder().decode(text.payload), "hi");
  assertEquals(encodeText("hi"), encodeText("hi"));
});
