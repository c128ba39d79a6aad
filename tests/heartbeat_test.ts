/**
 * Heartbeat precision over real sockets and real timers: with a 2 s interval and a 1 s
 * pong deadline, a silent client gets its ping at ≈ 2 s and is closed with 4002 at ≈ 3 s,
 * measured from the client's side.
 */
import { equal, ok } from "node:assert/strict";
import { Hub } from "../lib/gateway/mod.ts";
import { serveHub } from "../lib/gateway/_serve_hub.ts";
import { anonymous as anonymousPrincipal, TEST_NAMESPACES } from "../lib/gateway/_test_util.ts";
import { deadline } from "./_deadline.ts";

const anonymous = anonymousPrincipal("anon:x");

/** What a silent client saw, in ms since its socket opened. */
interface Timeline {
  pings: number[];
  closeCode: number;
  closedAt: number;
}

/** Opens a client that never answers pings; resolves when the server closed it. */
async function silentClient(url: string): Promise<Timeline> {
  const ws = new WebSocket(url);
  const pings: number[] = [];
  let openedAt = 0;
  ws.onmessage = (e) => {
    if (JSON.parse(e.data).type === "ping") pings.push(performance.now() - openedAt);
  };
  const closed = new Promise<Timeline>((resolve) => {
    ws.onclose = (e) =>
      resolve({ pings, closeCode: e.code, closedAt: performance.now() - openedAt });
  });
  try {
    await deadline(
      new Promise<void>((resolve, reject) => {
        ws.onopen = () => {
          openedAt = performance.now();
          resolve();
        };
        ws.onerror = () => reject(new Error(`Cannot open ${url}`));
      }),
      5_000,
      "a silent client's socket to open",
    );
    // A subscription keeps the connection from being idle; no pong ever goes back.
    ws.send(JSON.stringify({ type: "subscribe", channel: "prices:A" }));
    return await deadline(closed, 10_000, "the server to close a silent client");
  } catch (err) {
    ws.close();
    await deadline(closed, 5_000, "a silent client's socket to close").catch(() => {});
    throw err;
  }
}

Deno.test("[heartbeat] a silent client (2 s / 1 s) is pinged at 2 s and closed with 4002 at 2.9–3.3 s", async () => {
  const hub = new Hub({
    serverId: "hb",
    namespaces: TEST_NAMESPACES,
    limits: { pingIntervalMs: 2_000, pongTimeoutMs: 1_000 },
  });
  hub.start();
  const served = serveHub(hub, anonymous);
  try {
    const url = served.url;
    // Five clients opened at different points of the hub's tick.
    const timelines: Promise<Timeline>[] = [];
    for (let i = 0; i < 5; i++) {
      timelines.push(silentClient(url));
      await new Promise((r) => setTimeout(r, 17));
    }
    const results = await Promise.all(timelines);
    console.log(
      `heartbeat 2 s / 1 s, ms after open: pings ${
        results.map((t) => Math.round(t.pings[0] ?? -1)).join(" ")
      }; 4002 closes ${results.map((t) => Math.round(t.closedAt)).join(" ")}`,
    );
    for (const [i, t] of results.entries()) {
      const what = `client ${i}: pings at ${t.pings.map(Math.round)} ms, closed ${t.closeCode} at ${
        Math.round(t.closedAt)
      } ms`;
      equal(t.closeCode, 4002, what);
      equal(t.pings.length, 1, what);
      ok(t.pings[0] >= 1_900 && t.pings[0] <= 2_100, `ping within ±100 ms of 2 s: ${what}`);
      ok(t.closedAt >= 2_900 && t.closedAt <= 3_300, `closed within 2.9–3.3 s: ${what}`);
    }
  } finally {
    hub.closeAll(4000, "test over");
    hub.stop();
    await served.close();
  }
});
