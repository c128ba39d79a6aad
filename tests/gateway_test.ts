/**
 * The gateway over real sockets on port 0: admission, codecs, limits, heartbeats and
 * backpressure with a reader that never reads.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { decode, encode } from "@msgpack/msgpack";
import type { AuthResult, Principal } from "../lib/auth/types.ts";
import { type GatewayLimits, Hub } from "../lib/gateway/mod.ts";
import { serveHub } from "../lib/gateway/_serve_hub.ts";
import { anonymous, TEST_NAMESPACES } from "../lib/gateway/_test_util.ts";
import { deadline, fetchWithin, waitFor } from "./_deadline.ts";
import { closeOf, denoWebSocket, opened, openOrRefused, openSocket } from "./_ws.ts";

const alice: Principal = {
  userId: "alice",
  name: "alice",
  anonymous: false,
  via: "token",
  expiresAt: null,
  roles: ["user"],
};

async function withGateway(
  limits: Partial<GatewayLimits>,
  fn: (ctx: { hub: Hub; url: string; port: number }) => Promise<void>,
): Promise<void> {
  const hub = new Hub({ serverId: "t", namespaces: TEST_NAMESPACES, limits });
  hub.start();
  const served = serveHub(hub, (req): Promise<AuthResult> => {
    const auth = req.headers.get("authorization");
    if (auth === "Bearer good") return Promise.resolve({ ok: true, principal: alice });
    if (auth) {
      return Promise.resolve({
        ok: false,
        status: 401,
        code: "invalid_token",
        message: "the token is not valid",
      });
    }
    return Promise.resolve({ ok: true, principal: anonymous("anon:x") });
  });
  try {
    await fn({ hub, url: served.url, port: served.port });
  } finally {
    hub.closeAll(4000, "test over");
    hub.stop();
    await deadline(served.close(), 10_000, "the gateway's server to finish");
  }
}

Deno.test("[gateway] MessagePack is negotiated through Sec-WebSocket-Protocol", async () => {
  await withGateway({}, async ({ url }) => {
    const ws = new WebSocket(url, ["realtime.v1.msgpack"]);
    ws.binaryType = "arraybuffer";
    const frames: Record<string, unknown>[] = [];
    const two = Promise.withResolvers<void>();
    ws.onmessage = (e) => {
      ok(e.data instanceof ArrayBuffer, "binary frames");
      frames.push(decode(new Uint8Array(e.data)) as Record<string, unknown>);
      if (frames.length >= 2) two.resolve();
    };
    await opened(ws);
    equal(ws.protocol, "realtime.v1.msgpack");
    ws.send(encode({ type: "ping", id: "m" }));
    await deadline(two.promise, 10_000, "the connected frame and the pong");
    equal(frames[0].type, "connected");
    equal((frames[0].data as { codec: string }).codec, "msgpack");
    deepStrictEqual(frames[1], { v: 1, type: "pong", id: "m" });
    const closed = closeOf(ws);
    ws.close();
    await closed;
  });
});

Deno.test("[gateway] refused upgrades are HTTP errors with a JSON reason", async () => {
  await withGateway({}, async ({ port }) => {
    const request = (headers: Record<string, string>) =>
      fetchWithin(`http://127.0.0.1:${port}/`, { headers: { ...headers } });
    const plain = await request({});
    equal(plain.status, 400);
    equal((await plain.json()).error.code, "not_websocket");
    // A WebSocket whose token is refused never opens.
    const bad = denoWebSocket(`ws://127.0.0.1:${port}/`, {
      headers: { authorization: "Bearer forged" },
    });
    equal(await openOrRefused(bad), "refused");
    const good = await openSocket(`ws://127.0.0.1:${port}/`, {
      headers: { authorization: "Bearer good" },
    });
    equal(((await good.next()).data as { user: { id: string } }).user.id, "alice");
    await good.close();
  });
});

Deno.test("[gateway] an oversized frame closes the socket with 1009", async () => {
  await withGateway({ maxFrameBytes: 1_000 }, async ({ url, hub }) => {
    const ws = await openSocket(url);
    await ws.next();
    const closed = closeOf(ws.socket);
    ws.send("x".repeat(2_000));
    const event = await closed;
    equal(event.code, 1009);
    equal(hub.stats().connections, 0);
  });
});

Deno.test("[gateway] a client that never answers pings is closed with 4002", async () => {
  await withGateway({ pingIntervalMs: 100, pongTimeoutMs: 100 }, async ({ url }) => {
    const ws = await openSocket(url, { autoPong: false });
    await ws.next();
    ws.send({ type: "subscribe", channel: "prices:A" });
    await ws.next((f) => f.type === "ping", 3_000);
    const event = await closeOf(ws.socket);
    equal(event.code, 4002);
  });
});

/** A raw TCP WebSocket client that completes the handshake and then never reads. */
async function neverReadingClient(port: number, subscribe: string[]): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const key = btoa("0123456789abcdef");
  await conn.write(new TextEncoder().encode(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  ));
  const buf = new Uint8Array(4096);
  const read = await deadline(conn.read(buf), 10_000, "the upgrade response");
  ok(read && new TextDecoder().decode(buf.subarray(0, read)).startsWith("HTTP/1.1 101"));
  for (const channel of subscribe) {
    // A masked client text frame.
    const payload = new TextEncoder().encode(JSON.stringify({ type: "subscribe", channel }));
    const mask = [1, 2, 3, 4];
    const frame = new Uint8Array(2 + 4 + payload.length);
    frame[0] = 0x81;
    frame[1] = 0x80 | payload.length;
    frame.set(mask, 2);
    payload.forEach((b, i) => frame[6 + i] = b ^ mask[i % 4]);
    await conn.write(frame);
  }
  return conn;
}

Deno.test("[gateway] a reader that never reads: latest values conflate, memory stays bounded", async () => {
  await withGateway({ maxBufferedBytes: 64 * 1024 }, async ({ hub, port }) => {
    const conn = await neverReadingClient(port, ["prices:A", "prices:B"]);
    try {
      await waitFor(() => hub.stats().subscriptions === 2, {
        timeoutMs: 10_000,
        intervalMs: 5,
        what: "both subscriptions of the raw client",
      });
      const payload = { pad: "x".repeat(2_000) };
      for (let round = 0; round < 40; round++) {
        for (let i = 0; i < 100; i++) {
          hub.deliver("prices:A", { ...payload, i });
          hub.deliver("prices:B", { ...payload, i });
        }
        await new Promise((r) => setTimeout(r, 5));
        hub.flush();
      }
      const conflated = hub.metrics.conflations.value();
      ok(conflated > 1_000, `most messages were conflated (${conflated})`);
      equal(hub.stats().connections, 1, "a latest-value reader is not disconnected");
      // 8 000 messages of 2 KB were published (16 MB); what was handed to the socket is a
      // fraction: the rest was replaced by newer values instead of queueing in memory.
      const written = hub.stats().bytesOut;
      ok(written < 8_000_000, `bytes written to the socket: ${written}`);
    } finally {
      conn.close();
    }
  });
});

Deno.test("[gateway] a reader that never reads on an ordered channel is closed with 4001", async () => {
  await withGateway({ maxBufferedBytes: 64 * 1024 }, async ({ hub, port }) => {
    const conn = await neverReadingClient(port, ["system"]);
    try {
      await waitFor(() => hub.stats().subscriptions === 1, {
        timeoutMs: 10_000,
        intervalMs: 5,
        what: "the raw client's subscription",
      });
      for (let round = 0; round < 200 && hub.stats().connections > 0; round++) {
        for (let i = 0; i < 50; i++) hub.deliver("system", { pad: "y".repeat(2_000), i });
        await new Promise((r) => setTimeout(r, 5));
      }
      equal(hub.stats().connections, 0, "disconnected");
      equal(hub.metrics.slowConsumerCloses.value(), 1);
      equal(hub.metrics.disconnects.value({ code: "4001" }), 1);
    } finally {
      conn.close();
    }
  });
});
