/**
 * The whole application over HTTP and WebSocket: in the test's process (the handler of
 * `createHandler(manifest)` on a real port), and as `deno serve --parallel main.ts`.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { serveApp } from "./_app.ts";
import { fetchWithin, waitFor } from "./_deadline.ts";
import { DEMO_PASSWORD, demoToken } from "./_auth.ts";
import { startApp } from "./_server.ts";
import { openSocket, type TestSocket } from "./_ws.ts";

Deno.test({
  name: "[app] end to end over HTTP and WebSocket",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const app = await serveApp({ env: { MARKET_TICK_MS: "50" } });
    const { origin } = app;
    try {
      await t.step("/ server-renders every price in the first HTML", async () => {
        const res = await fetchWithin(`${origin}/`);
        equal(res.status, 200);
        match(res.headers.get("content-type") ?? "", /text\/html/);
        const html = await res.text();
        match(html, /^<!DOCTYPE html>/i);
        for (const symbol of ["BTC-USD", "ETH-USD", "SOL-USD"]) {
          const row = html.match(
            new RegExp(`data-symbol="${symbol}"[\\s\\S]*?data-testid="price"[^>]*>([^<]+)<`),
          );
          ok(row, `row for ${symbol}`);
          match(row[1], /^\$[\d,]+\.\d+$/, `${symbol} price rendered: ${row[1]}`);
        }
        match(html, /\/_frsh\/js\/[^/]+\//, "hydration script");
      });

      await t.step("unknown path → the 404 page with status 404", async () => {
        const res = await fetchWithin(`${origin}/no/such/page`);
        equal(res.status, 404);
        match(await res.text(), /Page not found[\s\S]*\/no\/such\/page/);
      });

      await t.step("/api/ws without an upgrade → 400 with a one-line explanation", async () => {
        const res = await fetchWithin(`${origin}/api/ws`);
        equal(res.status, 400);
        const body = await res.text();
        equal(body.trim().split("\n").length, 1);
        match(body, /Expected a WebSocket upgrade/);
      });

      await t.step("/api/prices returns the board", async () => {
        const board = await (await fetchWithin(`${origin}/api/prices`)).json();
        ok(board.seq > 0);
        equal(Object.keys(board.quotes).length, 10);
      });

      await t.step("static files: ETag and 304", async () => {
        const res = await fetchWithin(`${origin}/styles.css`);
        equal(res.status, 200);
        await res.body?.cancel();
        const etag = res.headers.get("etag");
        ok(etag);
        const again = await fetchWithin(`${origin}/styles.css`, {
          headers: { "if-none-match": etag },
        });
        equal(again.status, 304);
        await again.body?.cancel();
      });

      await t.step("/api/ws streams prices and answers bad frames with errors", async () => {
        const ws = await openSocket(`${origin.replace("http", "ws")}/api/ws`);
        try {
          equal((await ws.next()).type, "connected");
          ws.send({ type: "subscribe", id: "a", channel: "prices:ETH-USD" });
          equal((await ws.next()).type, "subscribed");
          ws.send({ type: "subscribe", id: "b", channel: "prices:NOPE-USD" });
          const refused = await ws.next((f) => f.type === "error");
          equal(refused.id, "b");
          equal((refused.data as { code: string }).code, "unknown_channel");
          ws.send("not json");
          equal(
            ((await ws.next((f) => f.type === "error")).data as { code: string }).code,
            "bad_frame",
          );
          const msg = await ws.next((f) => f.type === "message");
          equal(msg.channel, "prices:ETH-USD");
        } finally {
          await ws.close();
        }
      });
    } finally {
      await app.stop();
    }
  },
});

for (const guard of [false, true]) {
  Deno.test({
    name: guard
      ? "[app] deno task start's guarded server, 2 isolates: every isolate serves, one produces"
      : "[app] deno serve --parallel: every isolate serves, one produces",
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      // `:memory:` would give each isolate a database of its own; share a file.
      const dir = await Deno.makeTempDir();
      const par = await startApp({
        guard,
        parallel: 2,
        env: {
          KV_PATH: `${dir}/kv.sqlite`,
          LOG_LEVEL: "info",
          MARKET_TICK_MS: "50",
          DEMO_PASSWORD,
        },
      });
      const perIsolate = new Map<string, TestSocket>();
      try {
        const token = await demoToken(par.origin);
        // One signed-in socket per isolate. The kernel spreads connections over the isolates
        // (SO_REUSEPORT); an isolate still starting under load gets none yet, so keep trying.
        const servers = new Set<string>();
        await waitFor(async () => {
          const ws = await openSocket(`${par.origin.replace("http", "ws")}/api/ws`, {
            headers: { authorization: `Bearer ${token}` },
          });
          const server = ((await ws.next()).data as { server: string }).server;
          servers.add(server);
          if (perIsolate.has(server)) {
            await ws.close();
            return false;
          }
          perIsolate.set(server, ws);
          ws.send({ type: "subscribe", channel: "prices:BTC-USD" });
          equal((await ws.take((f) => f.type === "message")).channel, "prices:BTC-USD");
          ws.send({ type: "subscribe", channel: "presence:cross" });
          await ws.take((f) => f.type === "subscribed" && f.channel === "presence:cross");
          return servers.size === 2;
        }, {
          timeoutMs: 60_000,
          intervalMs: 50,
          what: "a connection on each of the two isolates",
          detail: () => `isolates ${[...servers]}; output:\n${par.output()}`,
        });
        equal(servers.size, 2, `connections landed on both isolates:\n${par.output()}`);
        const res = await fetchWithin(`${par.origin}/`);
        equal(res.status, 200);
        match(await res.text(), /data-symbol="BTC-USD"/);
        // Cluster views: every isolate's report, whichever isolate answers.
        const cluster =
          await (await fetchWithin(`${par.origin}/api/websocket/status?scope=cluster`))
            .json();
        deepStrictEqual(
          cluster.isolates.map((i: { isolate: string }) => i.isolate).sort(),
          [...servers].sort(),
        );
        equal(typeof cluster.totals.messagesOut, "number");
        const metrics = await (await fetchWithin(`${par.origin}/metrics?scope=cluster`)).text();
        for (const id of servers) {
          match(metrics, new RegExp(`realtime_connections\\{isolate="${id}"\\} \\d+`));
        }
        equal(
          metrics.match(/^# TYPE realtime_connections gauge$/gm)?.length,
          1,
          "one family header",
        );
        const acquired = par.output().match(/market lease acquired/g) ?? [];
        equal(acquired.length, 1, `one producer:\n${par.output()}`);
        // A message published on one isolate reaches the subscriber on the other, in order.
        const [a, b] = [...perIsolate.values()];
        for (let i = 1; i <= 20; i++) {
          a.send({ type: "publish", id: `x${i}`, channel: "presence:cross", data: i });
        }
        const got = [];
        for (let i = 1; i <= 20; i++) {
          got.push(
            (await b.take((f) => f.type === "message" && f.channel === "presence:cross")).data,
          );
        }
        deepStrictEqual(got, Array.from({ length: 20 }, (_, i) => i + 1));
      } finally {
        for (const ws of perIsolate.values()) await ws.close();
        await par.stop();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
