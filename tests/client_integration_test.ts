/**
 * The client SDK (`RealtimeClient`, as a Deno program would use it) against the real app:
 * a server process killed while messages flow, and a token refreshed in band (in process).
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { RealtimeClient } from "../lib/client/mod.ts";
import { DEMO_PASSWORD, demoToken } from "./_auth.ts";
import { serveApp } from "./_app.ts";
import { fetchWithin, waitFor } from "./_deadline.ts";
import { startApp } from "./_server.ts";
import { denoWebSocket, openSocket } from "./_ws.ts";

const SECRET = "an-auth-secret-for-tests-that-is-long-enough";

function sdkClient(origin: string, tokens: { fetched: number }) {
  return new RealtimeClient({
    url: `${origin.replace("http", "ws")}/api/ws`,
    minReconnectDelayMs: 100,
    maxReconnectDelayMs: 1_000,
    getToken: async () => {
      tokens.fetched++;
      return await demoToken(origin);
    },
    createSocket: (url, token, protocols) =>
      denoWebSocket(url, { protocols, headers: token ? { authorization: `Bearer ${token}` } : {} }),
  });
}

async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  await waitFor(check, { timeoutMs, what });
}

Deno.test({
  name: "[client] the server is killed while messages flow: every message exactly once",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const env = { DEMO_PASSWORD, AUTH_SECRET: SECRET, KV_PATH: `${dir}/kv.sqlite` };
    let app = await startApp({ env });
    const tokens = { fetched: 0 };
    const client = sdkClient(app.origin, tokens);
    const got: number[] = [];
    let confirmations = 0;
    client.subscribe<{ n: number }>("presence:flow", {
      onMessage: ({ n }) => got.push(n),
      onSubscribed: () => confirmations++,
    });
    client.connect();
    try {
      await until(() => confirmations === 1, "subscribed");
      const publishAll = async (from: number, to: number) => {
        const pub = await openSocket(`${app.origin.replace("http", "ws")}/api/ws`, {
          headers: { authorization: `Bearer ${await demoToken(app.origin)}` },
        });
        await pub.next();
        for (let n = from; n <= to; n++) {
          pub.send({ type: "publish", id: `n${n}`, channel: "presence:flow", data: { n } });
          await pub.take((f) => f.type === "ack" && f.id === `n${n}`);
        }
        await pub.close();
      };
      await publishAll(1, 30);
      await until(() => got.length >= 30, "the first 30");
      const port = app.port;
      await app.kill(); // SIGKILL: no shutdown, no close frames
      app = await startApp({ env, port });
      await publishAll(31, 60); // while the client is still reconnecting
      await until(() => got.length >= 60, "all 60 after the restart");
      // A last message: delivery is ordered, so a duplicate of 1…60 would come before it.
      await publishAll(61, 61);
      await until(() => got.includes(61), "message 61");
      deepStrictEqual(got, Array.from({ length: 61 }, (_, i) => i + 1), "in order, each once");
      ok(client.quality().reconnects >= 1);
      ok(confirmations >= 2, "re-subscribed");
    } finally {
      client.disconnect();
      await app.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "[client] an expiring token is refreshed in band; the subscription keeps flowing",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // Tokens live 30 s: the server says `expiring` at once (less than 60 s left).
    const app = await serveApp({
      env: { DEMO_PASSWORD, AUTH_SECRET: SECRET, TOKEN_TTL_SEC: "30" },
    });
    const tokens = { fetched: 0 };
    const client = sdkClient(app.origin, tokens);
    const got: string[] = [];
    client.subscribe<string>("presence:refresh", { onMessage: (m) => got.push(m) });
    client.connect();
    try {
      await until(() => client.state === "connected", "connected");
      await until(() => tokens.fetched >= 2, "a second token fetched for the refresh", 10_000);
      const status = await (await fetchWithin(`${app.origin}/api/websocket/status`)).json();
      const sender = await openSocket(`${app.origin.replace("http", "ws")}/api/ws`, {
        headers: { authorization: `Bearer ${await demoToken(app.origin)}` },
      });
      await sender.next();
      sender.send({
        type: "publish",
        id: "after-refresh",
        channel: "presence:refresh",
        data: "still here",
      });
      await until(() => got.includes("still here"), "a message after the refresh");
      equal(client.quality().reconnects, 0, "no reconnect: refreshed in band");
      equal(status.connections, 1, "the SDK's one socket, kept through the refresh");
      ok(!app.output().includes("eyJ"), "tokens never logged");
      await sender.close();
    } finally {
      client.disconnect();
      await app.stop();
    }
  },
});
