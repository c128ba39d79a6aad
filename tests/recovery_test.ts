/**
 * Channel history and recovery through the real app: after a disconnect, after a server
 * restart, with a position too old, after an epoch change; and the producer lease moving
 * to another process when its holder is killed.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { DEMO_PASSWORD, demoToken } from "./_auth.ts";
import { type AppProcess, startApp } from "./_server.ts";
import { fetchWithin, waitFor } from "./_deadline.ts";
import { openSocket, type TestSocket } from "./_ws.ts";

const SECRET = "an-auth-secret-for-tests-that-is-long-enough";

async function connect(app: AppProcess, bearer: string): Promise<TestSocket> {
  const ws = await openSocket(`${app.origin.replace("http", "ws")}/api/ws`, {
    headers: { authorization: `Bearer ${bearer}` },
  });
  equal((await ws.next()).type, "connected");
  return ws;
}

interface Sub {
  epoch: string;
  offset: number;
  recovered?: boolean;
  snapshot?: unknown;
}

async function subscribe(
  ws: TestSocket,
  channel: string,
  since?: { epoch: string; offset: number },
) {
  ws.send({ type: "subscribe", id: `s-${channel}`, channel, ...(since ? { since } : {}) });
  return (await ws.take((f) => f.type === "subscribed" && f.channel === channel)).data as Sub;
}

async function publishAll(ws: TestSocket, channel: string, texts: string[]) {
  for (const [i, text] of texts.entries()) {
    ws.send({ type: "publish", id: `p${i}-${text}`, channel, data: { text } });
    await ws.take((f) => f.type === "ack" && f.id === `p${i}-${text}`);
  }
}

const env = (kvPath: string) => ({
  KV_PATH: kvPath,
  AUTH_SECRET: SECRET,
  DEMO_PASSWORD,
  MARKET_TICK_MS: "100",
});

Deno.test({
  name: "[recovery] after a disconnect and after a restart; too old; new epoch",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const dir = await Deno.makeTempDir();
    let app = await startApp({ env: env(`${dir}/kv.sqlite`) });
    const open: TestSocket[] = [];
    try {
      const bearer = await demoToken(app.origin);
      let position = { epoch: "", offset: 0 };

      await t.step("a client that was away gets exactly what it missed, in order", async () => {
        const reader = await connect(app, bearer);
        const first = await subscribe(reader, "presence:room1");
        const writer = await connect(app, bearer);
        open.push(writer);
        await publishAll(writer, "presence:room1", ["a", "b"]);
        const live = [
          await reader.take((f) => f.type === "message"),
          await reader.take((f) => f.type === "message"),
        ];
        deepStrictEqual(live.map((m) => m.offset), [first.offset + 1, first.offset + 2]);
        // The position of the last message seen (an empty channel's `subscribed` epoch is
        // not stored: its first message starts the channel's epoch).
        position = { epoch: live[1].epoch as string, offset: live[1].offset as number };
        await reader.close();
        await publishAll(writer, "presence:room1", ["c", "d", "e"]);
        const back = await connect(app, bearer);
        open.push(back);
        const sub = await subscribe(back, "presence:room1", position);
        deepStrictEqual([sub.recovered, sub.epoch, sub.offset], [
          true,
          position.epoch,
          position.offset + 3,
        ]);
        const replay = [];
        for (let i = 0; i < 3; i++) replay.push(await back.take((f) => f.type === "message"));
        deepStrictEqual(replay.map((m) => (m.data as { text: string }).text), ["c", "d", "e"]);
        deepStrictEqual(replay.map((m) => m.offset), [
          position.offset + 1,
          position.offset + 2,
          position.offset + 3,
        ]);
        position = { epoch: sub.epoch, offset: sub.offset };
        await publishAll(writer, "presence:room1", ["f"]);
        equal(
          (await back.take((f) => f.type === "message")).offset,
          position.offset + 1,
          "then live, no gap",
        );
        position.offset += 1;
      });

      await t.step("history survives a server restart; the epoch stays", async () => {
        for (const s of open.splice(0)) await s.close();
        await app.stop();
        app = await startApp({ env: env(`${dir}/kv.sqlite`) });
        const writer = await connect(app, bearer);
        open.push(writer);
        await publishAll(writer, "presence:room1", ["g", "h"]);
        const back = await connect(app, bearer);
        open.push(back);
        const sub = await subscribe(back, "presence:room1", position);
        deepStrictEqual([sub.recovered, sub.epoch], [true, position.epoch]);
        const replay = [
          await back.take((f) => f.type === "message"),
          await back.take((f) => f.type === "message"),
        ];
        deepStrictEqual(replay.map((m) => (m.data as { text: string }).text), ["g", "h"]);
      });

      await t.step(
        "a position older than the history: recovered false, the snapshot, no replay",
        async () => {
          const ws = await connect(app, bearer);
          open.push(ws);
          const now = await subscribe(ws, "prices:BTC-USD");
          ws.send({ type: "unsubscribe", channel: "prices:BTC-USD" });
          await ws.take((f) => f.type === "unsubscribed");
          // prices keep one message of history; ask from far behind.
          const sub = await subscribe(ws, "prices:BTC-USD", {
            epoch: now.epoch,
            offset: Math.max(0, now.offset - 50),
          });
          equal(sub.recovered, false);
          equal((sub.snapshot as { symbol: string }).symbol, "BTC-USD");
        },
      );

      await t.step("a new epoch (history lost): recovered false", async () => {
        for (const s of open.splice(0)) await s.close();
        await app.stop();
        app = await startApp({ env: env(`${dir}/fresh.sqlite`) });
        const ws = await connect(app, await demoToken(app.origin));
        open.push(ws);
        const sub = await subscribe(ws, "presence:room1", position);
        equal(sub.recovered, false);
        ok(sub.epoch !== position.epoch, "a different epoch");
      });
    } finally {
      for (const s of open) await s.close();
      await app.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "[recovery] the market lease moves to another process within 5 s when its holder is killed",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const first = await startApp({ env: { ...env(`${dir}/kv.sqlite`), LOG_LEVEL: "info" } });
    const second = await startApp({ env: { ...env(`${dir}/kv.sqlite`), LOG_LEVEL: "info" } });
    try {
      const status = async (app: AppProcess) =>
        await (await fetchWithin(`${app.origin}/api/websocket/status`)).json();
      const a = await status(first);
      const b = await status(second);
      const holder = a.leases.market;
      ok(holder === a.isolate || holder === b.isolate, `one of them holds it: ${holder}`);
      const [victim, survivor, survivorId] = holder === a.isolate
        ? [first, second, b.isolate]
        : [second, first, a.isolate];
      await victim.kill();
      const killedAt = Date.now();
      let holderNow = "";
      await waitFor(async () => {
        holderNow = (await status(survivor)).leases.market;
        return holderNow === survivorId;
      }, {
        timeoutMs: 8_000,
        intervalMs: 50,
        what: `the survivor ${survivorId} to take over the market lease`,
        detail: () => `holder ${holderNow}`,
      });
      const taken = Date.now() - killedAt;
      ok(taken < 5_000, `taken over after ${taken} ms`);
      console.log(`lease takeover after SIGKILL: ${taken} ms`);
    } finally {
      await first.stop();
      await second.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
