/**
 * `history` end to end, across isolates: two worker isolates publish in turns on a KV
 * file; a third isolate runs the gateway over its own KV handle on that file, and a
 * `RealtimeClient` asks it over a real socket for the channel's last messages.
 */
import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import type { Principal } from "../lib/auth/types.ts";
import { retryWhileLocked } from "../lib/kv/open.ts";
import { createKvBus } from "../lib/bus/kv_bus.ts";
import { RealtimeClient, RequestError } from "../lib/client/mod.ts";
import { Hub, type Namespaces } from "../lib/gateway/mod.ts";
import { serveHub } from "../lib/gateway/_serve_hub.ts";
import { deadline } from "./_deadline.ts";
import { openSocket } from "./_ws.ts";

const HISTORY = { size: 50, ttlMs: 60_000 };

const NAMESPACES: Namespaces = {
  room: {
    subscribe: "authenticated",
    publish: "authenticated",
    mode: "ordered",
    presence: false,
    history: HISTORY,
  },
  user: { subscribe: "owner", publish: "none", mode: "ordered", presence: false, history: HISTORY },
};

const alice: Principal = {
  userId: "alice",
  name: "alice",
  anonymous: false,
  via: "token",
  expiresAt: null,
  roles: ["user"],
};

interface Committed {
  offset: number;
  epoch: string;
  data: { tag: string; i: number };
}

function spawnPublisher() {
  const worker = new Worker(new URL("./fixtures/history_worker.ts", import.meta.url), {
    type: "module",
  });
  const waiting = new Map<number, (v: unknown) => void>();
  let next = 0;
  worker.onmessage = (e) => {
    waiting.get(e.data.id)?.(e.data);
    waiting.delete(e.data.id);
  };
  const ask = <T>(msg: Record<string, unknown>, what: string) =>
    deadline(
      new Promise<T>((resolve) => {
        const id = ++next;
        waiting.set(id, resolve as (v: unknown) => void);
        worker.postMessage({ ...msg, id });
      }),
      15_000,
      what,
    );
  return { worker, ask };
}

Deno.test({
  name:
    "[history] the last N messages in order, across isolates, paged back without overlap or gap",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const path = `${dir}/kv.sqlite`;
    const publishers = [spawnPublisher(), spawnPublisher()];
    const kv = retryWhileLocked(await Deno.openKv(path));
    const bus = await createKvBus({ kv, historyOf: () => HISTORY, pollMs: 50 });
    const hub = new Hub({ serverId: "h", namespaces: NAMESPACES, history: bus });
    const served = serveHub(hub, alice);
    const url = served.url;
    const client = new RealtimeClient({ url, requestTimeoutMs: 10_000 });
    try {
      for (const [n, p] of publishers.entries()) {
        await p.ask({ kind: "start", path, ...HISTORY }, `publisher ${n} to start`);
      }
      // 4 rounds in which both isolates publish 10 messages at once: 80 in all.
      const committed: Committed[] = [];
      for (let round = 0; round < 4; round++) {
        const replies = await Promise.all(
          publishers.map((p, n) =>
            p.ask<{ committed: Committed[] }>(
              { kind: "publish", channel: "room:lobby", count: 10, tag: `w${n}r${round}` },
              `publisher ${n} to commit round ${round}`,
            )
          ),
        );
        committed.push(...replies.flatMap((r) => r.committed));
      }
      committed.sort((a, b) => a.offset - b.offset);
      deepStrictEqual(committed.map((m) => m.offset), range(1, 80), "one offset per message");
      equal(new Set(committed.map((m) => m.epoch)).size, 1);

      client.connect();
      const last30 = await client.history<{ tag: string; i: number }>("room:lobby", { limit: 30 });
      equal(last30.offset, 80);
      equal(last30.epoch, committed[0].epoch);
      deepStrictEqual(
        last30.messages.map((m) => [m.offset, m.data]),
        committed.slice(50).map((m) => [m.offset, m.data]),
        "exactly the last 30, oldest first, as committed by the other isolates",
      );
      ok(last30.messages.every((m) => m.from === m.data.tag && m.epoch === last30.epoch));
      // Page back with `before` = the oldest offset seen: the channel keeps 50 (31–80).
      const pages: number[][] = [last30.messages.map((m) => m.offset)];
      for (;;) {
        const page = await client.history("room:lobby", { limit: 15, before: pages.at(-1)![0] });
        if (page.messages.length === 0) break;
        pages.push(page.messages.map((m) => m.offset));
      }
      deepStrictEqual(pages, [range(51, 80), range(36, 50), range(31, 35)]);
      deepStrictEqual((await client.history("room:lobby")).messages.length, 50, "default 50");

      // Refusals, with the documented codes.
      const refused = async (channel: string, code: string) => {
        const error = await client.history(channel).then(() => null, (e) => e);
        ok(error instanceof RequestError, `history(${channel}) is refused`);
        deepStrictEqual([error.code, error.channel, error.temporary], [code, channel, false]);
      };
      await refused("user:bob", "forbidden");
      await refused("nope:x", "unknown_channel");
      await rejects(() => client.history("room:lobby", { limit: 101 }), /limit must be/);

      // The same over a raw socket: the server checks `limit` itself.
      const raw = await openSocket(url);
      try {
        await raw.next((f) => f.type === "connected");
        raw.send({ type: "history", id: "big", channel: "room:lobby", limit: 101 });
        raw.send({ type: "history", id: "zero", channel: "room:lobby", limit: 0 });
        raw.send({ type: "history", id: "ok", channel: "room:lobby", limit: 2 });
        const codes = [];
        for (let i = 0; i < 3; i++) {
          const f = await raw.next((f) => f.type === "error" || f.type === "history");
          codes.push([f.id, f.type === "error" ? (f.data as { code: string }).code : "history"]);
        }
        deepStrictEqual(codes, [["big", "bad_message"], ["zero", "bad_message"], [
          "ok",
          "history",
        ]]);
      } finally {
        await raw.close();
      }
    } finally {
      client.disconnect();
      hub.closeAll(4000, "test over");
      await served.close();
      for (const [n, p] of publishers.entries()) {
        await p.ask({ kind: "stop" }, `publisher ${n} to stop`).catch(() => {});
        p.worker.terminate();
      }
      await bus.close();
      kv.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
