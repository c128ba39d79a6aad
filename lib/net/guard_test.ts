import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { deadline, fetchWithin, waitFor } from "../../tests/_deadline.ts";
import { closeOf, denoWebSocket, messageOf, opened } from "../../tests/_ws.ts";
import { ConnectionGuard, type GuardedHandler } from "./guard.ts";
import { DEFAULT_NET_LIMITS, type NetLimits } from "./limits.ts";
import { guardedUpgrade } from "./upgrade.ts";

const enc = new TextEncoder();

/** A guard on a free port of 127.0.0.1 in front of `handler` (default: echo + upgrade). */
function startGuard(limits: Partial<NetLimits> = {}, handler: GuardedHandler = echoApp) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const guard = new ConnectionGuard({
    handler,
    limits: { ...DEFAULT_NET_LIMITS, maxSockets: 1_000, ...limits },
  });
  const serving = guard.serve(listener);
  return {
    guard,
    port: listener.addr.port,
    origin: `http://127.0.0.1:${listener.addr.port}`,
    async [Symbol.asyncDispose]() {
      await guard.close();
      await deadline(serving, 5_000, "the accept loop to end");
    },
  };
}

/** Answers with the client address it was given; upgrades `/ws` and echoes text. */
const echoApp: GuardedHandler = (req, info) => {
  const url = new URL(req.url);
  if (url.pathname === "/ws") {
    const upgrade = guardedUpgrade(req);
    if (!upgrade) return new Response("not guarded", { status: 500 });
    if (url.searchParams.has("refuse")) {
      return Response.json({ error: { code: "rate_limited" } }, { status: 429 });
    }
    const { socket, response } = upgrade.accept({ protocol: "json", maxMessageBytes: 1_024 });
    socket.onmessage = (e) => socket.send(`echo ${e.data}`);
    return response;
  }
  return new Response(`hello ${info.remoteAddr.hostname}:${info.remoteAddr.port}`);
};

/** Opens `n` TCP connections that send `first` (nothing by default). */
async function rawConnections(port: number, n: number, first = ""): Promise<Deno.TcpConn[]> {
  const conns: Deno.TcpConn[] = [];
  for (let i = 0; i < n; i++) {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    if (first) await c.write(enc.encode(first));
    conns.push(c);
  }
  return conns;
}

/** Resolves with how the server ended `conn` ("eof" / "reset") and after how long, ms. */
async function endOf(
  conn: Deno.Conn,
  ms: number,
): Promise<{ end: string; afterMs: number; text: string }> {
  const started = performance.now();
  const buf = new Uint8Array(4_096);
  let text = "";
  const read = (async () => {
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) return "eof";
        text += new TextDecoder().decode(buf.subarray(0, n));
      }
    } catch {
      return "reset";
    }
  })();
  const end = await deadline(read, ms, "the server to close the connection");
  return { end, afterMs: performance.now() - started, text };
}

Deno.test("[guard] plain HTTP reaches the app with the client's address, keep-alive included", async () => {
  await using g = await startGuard();
  const client = Deno.createHttpClient({});
  try {
    for (let i = 0; i < 3; i++) {
      const res = await fetchWithin(g.origin + "/", { client });
      const text = await res.text();
      ok(/^hello 127\.0\.0\.1:\d+$/.test(text), text);
      // The port is the client's own, not the internal hop's.
      ok(!text.endsWith(`:${g.port}`));
    }
  } finally {
    client.close();
  }
  await waitFor(() => g.guard.stats().sockets === 0 || g.guard.stats().sockets === 1, {
    timeoutMs: 3_000,
    what: "the keep-alive connection to be the only one",
  });
});

Deno.test("[guard] a WebSocket upgrade is answered on the guard's socket", async () => {
  await using g = await startGuard();
  const ws = denoWebSocket(`ws://127.0.0.1:${g.port}/ws`, { protocols: ["json"] });
  await opened(ws);
  equal(ws.protocol, "json");
  ws.send("hi");
  equal((await messageOf(ws)).data, "echo hi");
  equal(g.guard.stats().websockets, 1);
  equal(g.guard.stats().pending, 0);
  const closed = closeOf(ws);
  ws.close(1000);
  equal((await closed).code, 1000);
  await waitFor(() => g.guard.stats().sockets === 0, { timeoutMs: 3_000, what: "no sockets" });
});

Deno.test("[guard] a refused upgrade gets the app's answer", async () => {
  await using g = await startGuard();
  const res = await fetchWithin(`${g.origin}/ws?refuse`, {
    headers: {
      upgrade: "websocket",
      connection: "upgrade",
      "sec-websocket-version": "13",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    },
  });
  equal(res.status, 429);
  deepStrictEqual(await res.json(), { error: { code: "rate_limited" } });
});

Deno.test("[guard] half-open and slowloris connections close at the header deadline", async () => {
  await using g = await startGuard({ headerTimeoutMs: 300 });
  const silent = await rawConnections(g.port, 3);
  const trickle = await rawConnections(g.port, 1, "G");
  const dripping = (async () => {
    // One byte every 50 ms: progress, but the head never completes in time.
    for (const ch of "ET / HTTP/1.1\r\nHost: a\r\n") {
      await new Promise((resolve) => setTimeout(resolve, 50));
      try {
        await trickle[0].write(enc.encode(ch));
      } catch {
        return;
      }
    }
  })();
  equal(g.guard.stats().pending, 4);
  for (const conn of [...silent, ...trickle]) {
    const { end, afterMs } = await endOf(conn, 3_000);
    equal(end, "eof");
    ok(afterMs < 3_000, `closed after ${afterMs} ms`);
    conn.close();
  }
  await dripping;
  equal(g.guard.stats().sockets, 0);
  ok(g.guard.stats().timeouts >= 4);
});

Deno.test("[guard] an idle keep-alive connection closes after keepAliveTimeoutMs", async () => {
  await using g = await startGuard({ keepAliveTimeoutMs: 300 });
  const [idle] = await rawConnections(g.port, 1, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  const first = await endOf(idle, 3_000);
  ok(first.text.startsWith("HTTP/1.1 200"), first.text);
  ok(first.afterMs >= 250 && first.afterMs < 3_000, `idle closed after ${first.afterMs} ms`);
  idle.close();
});

Deno.test("[guard] a later head must complete within headerTimeoutMs of its first byte", async () => {
  await using g = await startGuard({ keepAliveTimeoutMs: 5_000, headerTimeoutMs: 300 });
  const [slow] = await rawConnections(g.port, 1, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  const buf = new Uint8Array(1_024);
  const n = await deadline(slow.read(buf), 3_000, "the first response");
  ok(new TextDecoder().decode(buf.subarray(0, n ?? 0)).startsWith("HTTP/1.1 200"));
  await slow.write(enc.encode("GET / HT"));
  const second = await endOf(slow, 3_000);
  // Well before the keep-alive deadline (5 s): the header deadline closed it.
  ok(second.afterMs >= 250 && second.afterMs < 3_000, `closed after ${second.afterMs} ms`);
  slow.close();
});

Deno.test("[guard] sockets per address are capped before any upgrade", async () => {
  await using g = await startGuard({ maxPendingPerIp: 5, headerTimeoutMs: 5_000 });
  const conns = await rawConnections(g.port, 8);
  await waitFor(() => g.guard.stats().refused === 3, {
    timeoutMs: 3_000,
    what: "3 connections refused",
    detail: () => JSON.stringify(g.guard.stats()),
  });
  equal(g.guard.socketsFrom("127.0.0.1"), 5);
  const ends = await Promise.all(conns.slice(5).map((c) => endOf(c, 3_000)));
  ok(ends.every((e) => e.afterMs < 3_000));
  for (const c of conns) c.close();
  await waitFor(() => g.guard.stats().sockets === 0, { timeoutMs: 3_000, what: "no sockets" });
});

Deno.test("[guard] the isolate's socket cap refuses at accept", async () => {
  await using g = await startGuard({ maxSockets: 4, headerTimeoutMs: 5_000 });
  const conns = await rawConnections(g.port, 6);
  await waitFor(() => g.guard.stats().refused === 2, { timeoutMs: 3_000, what: "2 refused" });
  equal(g.guard.stats().sockets, 4);
  for (const c of conns) c.close();
});

Deno.test("[guard] the internal HTTP port refuses requests that did not come through the guard", async () => {
  await using g = await startGuard();
  // Find the internal port: the guard's upstream connection's peer.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: g.port });
  await conn.write(enc.encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  const buf = new Uint8Array(1_024);
  await conn.read(buf);
  conn.close();
  const ports = [...(await listeningPorts())].filter((p) => p !== g.port);
  let refused = 0;
  for (const port of ports) {
    const res = await fetchWithin(`http://127.0.0.1:${port}/`, { timeoutMs: 2_000 }).catch(() =>
      null
    );
    if (res?.status === 403) refused++;
    await res?.body?.cancel();
  }
  equal(refused, 1);
});

/** Ports this process listens on (Linux /proc). */
async function listeningPorts(): Promise<Set<number>> {
  const inodes = new Set<string>();
  for await (const fd of Deno.readDir("/proc/self/fd")) {
    try {
      const target = await Deno.readLink(`/proc/self/fd/${fd.name}`);
      const m = target.match(/^socket:\[(\d+)\]$/);
      if (m) inodes.add(m[1]);
    } catch {
      // Closed meanwhile.
    }
  }
  const ports = new Set<number>();
  for (const line of (await Deno.readTextFile("/proc/net/tcp")).split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length > 9 && cols[3] === "0A" && inodes.has(cols[9])) {
      ports.add(parseInt(cols[1].split(":")[1], 16));
    }
  }
  return ports;
}
