/**
 * Flow control on a real socket (`Deno.upgradeWebSocket`, loopback): a client that stops
 * reading while prices keep coming. The kernel's buffers would take every frame (and the
 * socket's `bufferedAmount` would stay 0: bench/slow_reader.ts), so without flow control the
 * client would read the whole backlog, oldest first. With it, the client gets the newest
 * price right after the values it had in flight, and the ordered channel stays exact.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { clientFrame, parseServerFrames, rawUpgrade } from "../net/_ws_test_util.ts";
import { deadline } from "../../tests/_deadline.ts";
import { serveHub } from "./_serve_hub.ts";
import { Hub } from "./hub.ts";
import { DEFAULT_FLOW } from "./outbound.ts";
import { anonymous, TEST_NAMESPACES } from "./_test_util.ts";

interface Received {
  channel: string;
  type: string;
  n?: number;
}

Deno.test("[flow e2e] a client that stops reading gets the newest price, not the backlog", async () => {
  const hub = new Hub({
    serverId: "flow",
    namespaces: TEST_NAMESPACES,
    flow: DEFAULT_FLOW,
    limits: { upgradesPerSecond: 1e6, upgradesPerSecondPerIp: 1e6 },
  });
  const served = serveHub(hub, anonymous());
  const up = await rawUpgrade("127.0.0.1", served.port, { path: "/" });
  equal(up.status, 101);
  const conn = up.conn;
  const got: Received[] = [];
  let bytes = up.rest;
  const buf = new Uint8Array(65_536);
  /** Reads (answering pings) until `done()` holds. */
  const readUntil = async (done: () => boolean) => {
    for (;;) {
      const { frames, rest } = parseServerFrames(bytes);
      bytes = rest;
      for (const f of frames) {
        const m = JSON.parse(new TextDecoder().decode(f.payload));
        if (m.type === "ping") await conn.write(clientFrame(1, '{"type":"pong"}'));
        got.push({ channel: m.channel, type: m.type, n: m.data?.n });
      }
      if (done()) return;
      const n = await conn.read(buf);
      if (n === null) throw new Error("the server closed the connection");
      const next = new Uint8Array(bytes.length + n);
      next.set(bytes);
      next.set(buf.subarray(0, n), bytes.length);
      bytes = next;
    }
  };
  try {
    await conn.write(clientFrame(1, '{"type":"subscribe","channel":"prices:A"}'));
    await conn.write(clientFrame(1, '{"type":"subscribe","channel":"system"}'));
    await deadline(
      readUntil(() => got.filter((m) => m.type === "subscribed").length === 2),
      5_000,
      "both subscriptions",
    );
    // The client stops reading; 400 prices (one per macrotask, ~300 bytes each) and 100
    // ordered messages are published meanwhile.
    const pad = "x".repeat(280);
    for (let n = 1; n <= 400; n++) {
      hub.deliver("prices:A", { n, pad });
      if (n % 4 === 0) hub.deliver("system", { n: n / 4 });
      await new Promise((r) => setTimeout(r, 1));
    }
    await deadline(
      readUntil(() =>
        got.some((m) => m.type === "message" && m.channel === "prices:A" && m.n === 400)
      ),
      10_000,
      "the newest price (400)",
    );
    await deadline(
      readUntil(() =>
        got.filter((m) => m.type === "message" && m.channel === "system").length === 100
      ),
      5_000,
      `every ordered message (${
        JSON.stringify(
          got.filter((m) => m.type === "message" && m.channel === "system").map((m) => m.n),
        )
      })`,
    );
    const prices = got.filter((m) => m.type === "message" && m.channel === "prices:A").map((m) =>
      m.n!
    );
    ok(prices.length < 200, `most intermediate prices skipped: received ${prices.length} of 400`);
    deepStrictEqual(prices, [...prices].sort((a, b) => a - b), "prices in order");
    equal(prices.at(-1), 400);
    deepStrictEqual(
      got.filter((m) => m.type === "message" && m.channel === "system").map((m) => m.n),
      Array.from({ length: 100 }, (_, i) => i + 1),
      "the ordered channel exact",
    );
  } finally {
    conn.close();
    hub.closeAll(1001, "test over");
    hub.stop();
    await served.close();
  }
});
