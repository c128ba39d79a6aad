import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { deadline, waitFor } from "../../tests/_deadline.ts";
import {
  clientClose,
  clientFrame,
  closePayload,
  parseServerFrames,
  type ServerFrame,
} from "./_ws_test_util.ts";
import { Opcode } from "./ws_frames.ts";
import { ServerWebSocket, type ServerWebSocketOptions, type WsCloseEvent } from "./ws_socket.ts";

/** A connected pair of TCP connections on 127.0.0.1: [server side, client side]. */
async function tcpPair(): Promise<[Deno.TcpConn, Deno.TcpConn]> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const [server, client] = await Promise.all([
      listener.accept(),
      Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
    ]);
    return [server, client];
  } finally {
    listener.close();
  }
}

const OPTIONS: ServerWebSocketOptions = {
  maxMessageBytes: 65_536,
  frameTimeoutMs: 300,
  closeTimeoutMs: 300,
};

/** A started server socket and the raw client end, with the events the socket emitted. */
async function open(options: Partial<ServerWebSocketOptions> = {}) {
  const [server, client] = await tcpPair();
  const socket = new ServerWebSocket(server, { ...OPTIONS, ...options });
  const messages: (string | Uint8Array)[] = [];
  const closed = Promise.withResolvers<WsCloseEvent>();
  socket.onmessage = (e) => messages.push(e.data);
  socket.onclose = (e) => closed.resolve(e);
  socket.start(new TextEncoder().encode("HTTP/1.1 101 Switching Protocols\r\n\r\n"));
  const reader = clientReader(client);
  await reader.until((text) => text.includes("\r\n\r\n"), "the 101 head");
  reader.skipHead();
  return { socket, client, messages, closed: closed.promise, reader };
}

/** Collects what the server sends to `client`, for bounded waits. */
function clientReader(client: Deno.TcpConn) {
  let bytes = new Uint8Array(0);
  let ended: string | null = null;
  let wake = () => {};
  (async () => {
    const buf = new Uint8Array(65_536);
    try {
      for (;;) {
        const n = await client.read(buf);
        if (n === null) {
          ended = "eof";
          break;
        }
        const next = new Uint8Array(bytes.length + n);
        next.set(bytes);
        next.set(buf.subarray(0, n), bytes.length);
        bytes = next;
        wake();
      }
    } catch (err) {
      ended = err instanceof Error ? err.name : String(err);
    }
    wake();
  })();
  const reader = {
    get ended() {
      return ended;
    },
    frames(): ServerFrame[] {
      return parseServerFrames(bytes).frames;
    },
    skipHead() {
      const text = new TextDecoder().decode(bytes);
      bytes = bytes.slice(text.indexOf("\r\n\r\n") + 4);
    },
    async until(done: (text: string) => boolean, what: string, ms = 3_000): Promise<void> {
      const check = () => done(new TextDecoder("latin1").decode(bytes)) || ended !== null;
      await deadline(
        new Promise<void>((resolve) => {
          wake = () => check() && resolve();
          if (check()) resolve();
        }),
        ms,
        what,
      );
    },
    async untilEnded(what: string, ms = 3_000): Promise<string> {
      await reader.until(() => false, what, ms);
      return ended!;
    },
  };
  return reader;
}

Deno.test("[ws socket] messages both ways, pings answered, a clean close from the client", async () => {
  const { socket, client, messages, closed, reader } = await open();
  socket.send("hello");
  socket.send(new Uint8Array([1, 2]));
  await client.write(clientFrame(Opcode.Text, "hi"));
  await client.write(clientFrame(Opcode.Ping, "p"));
  await reader.until(() => reader.frames().length >= 3, "hello, bytes and a pong");
  const frames = reader.frames();
  deepStrictEqual(frames.map((f) => f.opcode), [Opcode.Text, Opcode.Binary, Opcode.Pong]);
  await client.write(clientClose(1000, "done"));
  const event = await deadline(closed, 3_000, "the close event");
  deepStrictEqual(event, { code: 1000, reason: "done", wasClean: true });
  deepStrictEqual(messages, ["hi"]);
  equal(await reader.untilEnded("the server to close TCP"), "eof");
  const echo = reader.frames().at(-1)!;
  equal(echo.opcode, Opcode.Close);
  equal(closePayload(echo.payload).code, 1000);
  client.close();
});

Deno.test("[ws socket] after our close frame, TCP closes within closeTimeoutMs even if the peer never answers", async () => {
  const { socket, client, closed } = await open({ closeTimeoutMs: 200 });
  // The client never reads and never answers; fill its direction a little too.
  for (let i = 0; i < 50; i++) socket.send("x".repeat(10_000));
  const started = performance.now();
  socket.close(4001, "slow consumer");
  const event = await deadline(closed, 3_000, "the close event");
  const took = performance.now() - started;
  equal(event.code, 4001);
  equal(event.wasClean, false);
  ok(took >= 150 && took < 3_000, `closed after ${took} ms`);
  equal(socket.readyState, ServerWebSocket.CLOSED);
  // The server's end is gone: the client's reads end (after the buffered data).
  const reader = clientReader(client);
  ok(["eof", "ConnectionReset"].includes(await reader.untilEnded("the connection to end")));
  client.close();
});

Deno.test("[ws socket] a client that keeps sending still receives the close frame (lingering close)", async () => {
  const { socket, client, closed, reader } = await open({ closeTimeoutMs: 2_000 });
  let sending = true;
  const flood = (async () => {
    const frame = clientFrame(Opcode.Text, "x".repeat(100));
    try {
      while (sending) await client.write(frame);
    } catch {
      // The server closed.
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 50));
  socket.close(4502, "message flood");
  // The client reads the close frame, stops sending, answers — as browsers do.
  await reader.until(
    () => reader.frames().some((f) => f.opcode === Opcode.Close),
    "the close frame",
  );
  sending = false;
  await flood;
  await client.write(clientClose(4502));
  const event = await deadline(closed, 3_000, "the close event");
  equal(event.code, 4502);
  equal(event.wasClean, true);
  const close = reader.frames().find((f) => f.opcode === Opcode.Close)!;
  deepStrictEqual(closePayload(close.payload), { code: 4502, reason: "message flood" });
  equal(await reader.untilEnded("the server to close TCP"), "eof");
  client.close();
});

Deno.test("[ws socket] protocol violations close with their code", async () => {
  for (
    const [bytes, code] of [
      [clientFrame(Opcode.Text, "x", { mask: false }), 1002],
      [clientFrame(Opcode.Text, new Uint8Array([0xff])), 1007],
      [clientFrame(Opcode.Binary, new Uint8Array(0), { declared: 2 ** 31 }), 1009],
    ] as const
  ) {
    const violations: number[] = [];
    const { client, closed, reader } = await open({
      onViolation: (c) => violations.push(c),
    });
    await client.write(bytes);
    await reader.until(
      () => reader.frames().some((f) => f.opcode === Opcode.Close),
      `a close frame ${code}`,
    );
    const close = reader.frames().find((f) => f.opcode === Opcode.Close)!;
    equal(closePayload(close.payload).code, code);
    await client.write(clientClose(code));
    equal((await deadline(closed, 3_000, "the close event")).code, code);
    deepStrictEqual(violations, [code]);
    client.close();
  }
});

Deno.test("[ws socket] a stalled partial frame is closed with 1008 after frameTimeoutMs", async () => {
  const { client, closed, reader, messages } = await open({ frameTimeoutMs: 200 });
  const frame = clientFrame(Opcode.Binary, new Uint8Array(50_000));
  const started = performance.now();
  await client.write(frame.subarray(0, 20_000));
  await reader.until(
    () => reader.frames().some((f) => f.opcode === Opcode.Close),
    "the close frame",
  );
  const took = performance.now() - started;
  ok(took >= 150 && took < 3_000, `closed after ${took} ms`);
  equal(closePayload(reader.frames().at(-1)!.payload).code, 1008);
  equal((await deadline(closed, 3_000, "the close event")).code, 1008);
  equal(messages.length, 0);
  client.close();
});

Deno.test("[ws socket] the shared partial-frame budget refuses with 1013 and is given back", async () => {
  let used = 0;
  const reserve = (n: number) => {
    if (n > 0 && used + n > 70_000) return false;
    used += n;
    return true;
  };
  const a = await open({ reserve });
  const b = await open({ reserve });
  const frame = clientFrame(Opcode.Binary, new Uint8Array(60_000));
  await a.client.write(frame.subarray(0, 100));
  await new Promise((resolve) => setTimeout(resolve, 50));
  ok(used > 50_000, `a holds room for its frame (${used})`);
  await b.client.write(frame.subarray(0, 100));
  await b.reader.until(
    () => b.reader.frames().some((f) => f.opcode === Opcode.Close),
    "b's close frame",
  );
  equal(closePayload(b.reader.frames().at(-1)!.payload).code, 1013);
  // a completes its frame: its room is given back.
  await a.client.write(frame.subarray(100));
  await waitFor(() => a.messages.length === 1, { timeoutMs: 3_000, what: "a's message" });
  equal(used, 0);
  a.socket.terminate();
  b.socket.terminate();
  await Promise.all([a.closed, b.closed]);
  a.client.close();
  b.client.close();
});

Deno.test("[ws socket] bufferedAmount counts queued bytes and drains", async () => {
  const { socket, client, reader } = await open();
  for (let i = 0; i < 10; i++) socket.send("y".repeat(1_000));
  ok(socket.bufferedAmount > 0 && socket.bufferedAmount <= 10 * 1_004);
  await reader.until(() => reader.frames().length === 10, "ten frames");
  equal(socket.bufferedAmount, 0);
  socket.terminate();
  client.close();
});
