/**
 * Deno Deploy readiness, proven locally: the built app runs as Deploy runs it and under
 * what Deploy forbids, and its features still work.
 *
 * - `deno serve main.ts`, one isolate (no `--parallel`: Deploy starts isolates itself);
 * - permissions: network, environment, reading the project only; `--deny-write` (no file
 *   may be written at all), `--deny-run` (no subprocess: no `deno bundle`, no anvil),
 *   `--deny-ffi` (no libc: the open-file limits are reported unknown);
 * - `DENO_DEPLOYMENT_ID` set and no `KV_PATH` / `KV_URL`, exactly as on Deploy: the app
 *   opens `Deno.openKv()` with no path (the project's managed KV there) and treats it as
 *   remote, so durable jobs pick the outbox backend (Deploy's KV has no queues) on their
 *   own. Locally that KV is the runtime's origin storage, `<DENO_DIR>/location_data/
 *   <sha256 of the origin>/kv.sqlite3`; a `--location` unique to this run gives it a fresh
 *   database, which the test checks was used and then deletes;
 * - no chain settings (nothing may try to start a node);
 * - the islands prebuilt by `deno task build` (`_fresh/`; `deno task test` builds first):
 *   bundling at start would need `--allow-run` and stop the app.
 *
 * Checked: the dashboard renders with prices and its island bundles are served, the
 * WebSocket streams prices, a signed-in client recovers exactly what it missed on an ordered
 * channel, a price alert becomes a notification through durable (outbox) delivery, and
 * nothing the app printed is a permission refusal. Not a real Deploy run (no network here).
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { deadline, fetchWithin, spawnChild, waitFor } from "./_deadline.ts";
import { type AppProcess, startApp } from "./_server.ts";
import { openSocket, type TestSocket } from "./_ws.ts";

const ROOT = new URL("../", import.meta.url);
const ROOT_PATH = decodeURIComponent(ROOT.pathname).replace(/\/$/, "");
const PASSWORD = "violet-harbor-lantern";
/** Printed by Deno when a permission is refused (Deno 2: `NotCapable`). */
const REFUSAL = /NotCapable|Requires (read|write|run|ffi|net|env|sys) access|PermissionDenied/;

/** Where `deno` keeps origin storage (`Deno.openKv()` without a path lives there). */
async function originStorage(): Promise<string> {
  const child = spawnChild(Deno.execPath(), ["info", "--json"], { name: "deno info --json" });
  try {
    const status = await deadline(child.status, 30_000, "deno info --json to exit");
    equal(status.code, 0, `deno info --json failed:\n${child.output()}`);
  } finally {
    await child.stop();
  }
  const text = child.output();
  const info = JSON.parse(text.slice(text.indexOf("{"), text.lastIndexOf("}") + 1));
  ok(typeof info.originStorage === "string", `originStorage in ${text.slice(0, 500)}`);
  return info.originStorage;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

async function json<T = Record<string, unknown>>(app: AppProcess, path: string, init = {}) {
  const res = await fetchWithin(`${app.origin}${path}`, init);
  const body = await res.text();
  equal(res.ok, true, `${path}: ${res.status} ${body.slice(0, 500)}`);
  return JSON.parse(body) as T;
}

async function connect(app: AppProcess, bearer?: string): Promise<TestSocket> {
  const ws = await openSocket(`${app.origin.replace("http", "ws")}/api/ws`, {
    headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
  });
  equal((await ws.next()).type, "connected");
  return ws;
}

async function subscribe(
  ws: TestSocket,
  channel: string,
  since?: { epoch: string; offset: number },
) {
  ws.send({ type: "subscribe", id: `s-${channel}`, channel, ...(since ? { since } : {}) });
  const frame = await ws.take((f) => f.type === "subscribed" && f.channel === channel);
  return frame.data as { epoch: string; offset: number; recovered?: boolean };
}

async function publishAll(ws: TestSocket, channel: string, texts: string[]) {
  for (const text of texts) {
    ws.send({ type: "publish", id: `p-${text}`, channel, data: { text } });
    await ws.take((f) => f.type === "ack" && f.id === `p-${text}`);
  }
}

/** The part of `GET /api/websocket/status` checked here. */
interface Status {
  isolate: string;
  net: unknown;
  leases: { market: string | null };
  notifications: {
    backend: string;
    delivery: { backend: string; processed: number };
    fanout: { backend: string };
    deadLetters: { count: number };
  };
  alerts: { wallet: { queue: { backend: string } } };
}

const text = (frame: Record<string, unknown>) => (frame.data as { text: string }).text;

Deno.test({
  name:
    "[deploy] deno serve, one isolate, --deny-write/run/ffi, managed-KV default: dashboard, WebSocket, recovery, durable notifications",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    ok(
      await exists(`${ROOT_PATH}/_fresh/snapshot.json`),
      "the islands are not built: run `deno task build` first (`deno task test` does)",
    );
    // A fresh managed-KV stand-in: origin storage keyed by this run's origin.
    const origin = `http://deploy-constraints-${crypto.randomUUID().slice(0, 8)}.test`;
    const kvDir = `${await originStorage()}/${await sha256Hex(origin)}`;
    equal(await exists(kvDir), false, `${kvDir} is new`);

    let running: AppProcess | undefined;
    const open: TestSocket[] = [];
    try {
      const app = running = await startApp({
        flags: [
          "--allow-net",
          "--allow-env",
          `--allow-read=${ROOT_PATH}`,
          "--deny-write",
          "--deny-run",
          "--deny-ffi",
          `--location=${origin}/`,
        ],
        env: {
          DENO_DEPLOYMENT_ID: "local-deploy-constraints",
          KV_PATH: undefined,
          MARKET_TICK_MS: "100",
        },
      });
      await t.step("one isolate, no guard, limits unknown, outbox jobs, no chain", async () => {
        const status = await json<Status>(app, "/api/websocket/status");
        deepStrictEqual(status.net, {
          guard: false,
          openFiles: { soft: null, hard: null, source: "none" },
        });
        equal(status.leases.market, status.isolate, "this isolate runs the market");
        equal(status.notifications.backend, "outbox");
        equal(status.notifications.delivery.backend, "outbox");
        equal(status.notifications.fanout.backend, "outbox");
        equal(status.alerts.wallet.queue.backend, "outbox");
        equal((await json(app, "/api/chain")).rpc, "off");
      });

      await t.step("the dashboard renders prices with the prebuilt islands", async () => {
        await waitFor(async () => {
          const board = await json<{ quotes?: Record<string, { price: number }> }>(
            app,
            "/api/prices",
          );
          return (board.quotes?.["BTC-USD"]?.price ?? 0) > 0;
        }, { timeoutMs: 20_000, what: "a BTC-USD price on /api/prices" });
        const res = await fetchWithin(`${app.origin}/`);
        equal(res.status, 200);
        const html = await res.text();
        match(html, /href="\/markets\/BTC-USD"/);
        const prices = [...html.matchAll(/data-testid="price">\$([0-9,]+(?:\.[0-9]+)?)</g)]
          .map((m) => Number(m[1].replaceAll(",", "")));
        ok(prices.length >= 1 && prices.every((p) => p > 0), `rendered prices: ${prices}`);
        const scripts = [...html.matchAll(/\/_frsh\/js\/[0-9a-f]+\/[\w.-]+\.js/g)].map((m) => m[0]);
        const island = scripts.find((s) => /\/island-PriceBoard\.js$/.test(s));
        ok(island, `the PriceBoard island is loaded: ${scripts.join(" ")}`);
        const js = await fetchWithin(`${app.origin}${island}`);
        equal(js.status, 200);
        match(js.headers.get("content-type") ?? "", /javascript/);
        ok((await js.text()).length > 0);
      });

      let cookie = "";
      let userId = "";
      let bearer = "";
      await t.step("a user signs up and gets an access token", async () => {
        const res = await fetchWithin(`${app.origin}/api/accounts`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ username: "deploy_user", password: PASSWORD }),
        });
        equal(res.status, 201, await res.clone().text());
        userId = (await res.json()).id;
        cookie = (res.headers.get("set-cookie") ?? "").split(";")[0];
        ok(cookie, "a session cookie");
        bearer = (await json<{ token: string }>(app, "/api/token", {
          method: "POST",
          headers: { cookie },
        })).token;
      });

      await t.step("the WebSocket streams prices", async () => {
        const ws = await connect(app);
        open.push(ws);
        await subscribe(ws, "prices:BTC-USD");
        const msg = await ws.take((f) => f.type === "message");
        equal(msg.channel, "prices:BTC-USD");
        ok((msg.data as { price: number }).price > 0);
      });

      await t.step("recovery: a client that was away gets exactly what it missed", async () => {
        const channel = "presence:lobby";
        const reader = await connect(app, bearer);
        const writer = await connect(app, bearer);
        open.push(reader, writer);
        const first = await subscribe(reader, channel);
        await publishAll(writer, channel, ["a", "b"]);
        const live = [
          await reader.take((f) => f.type === "message"),
          await reader.take((f) => f.type === "message"),
        ];
        deepStrictEqual(live.map(text), ["a", "b"]);
        deepStrictEqual(live.map((m) => m.offset), [first.offset + 1, first.offset + 2]);
        const position = { epoch: live[1].epoch as string, offset: live[1].offset as number };
        await reader.close();
        await publishAll(writer, channel, ["c", "d", "e"]);

        const back = await connect(app, bearer);
        open.push(back);
        const sub = await subscribe(back, channel, position);
        deepStrictEqual([sub.recovered, sub.epoch, sub.offset], [
          true,
          position.epoch,
          position.offset + 3,
        ]);
        const replay = [];
        for (let i = 0; i < 3; i++) replay.push(await back.take((f) => f.type === "message"));
        deepStrictEqual(replay.map(text), ["c", "d", "e"]);
        deepStrictEqual(replay.map((m) => m.offset), [1, 2, 3].map((n) => position.offset + n));
        // Then live with no gap and nothing doubled: the next message is the next offset.
        await publishAll(writer, channel, ["f"]);
        const next = await back.take((f) => f.type === "message");
        deepStrictEqual([text(next), next.offset], ["f", position.offset + 4]);
      });

      await t.step("a price alert fires and is delivered through the outbox", async () => {
        const inbox = await connect(app, bearer);
        open.push(inbox);
        await subscribe(inbox, `user:${userId}`);
        const board = await json<{ quotes: Record<string, { price: number }> }>(
          app,
          "/api/prices",
        );
        const level = Math.floor(board.quotes["BTC-USD"].price / 2);
        const res = await fetchWithin(`${app.origin}/api/alerts`, {
          method: "POST",
          headers: { "content-type": "application/json", cookie },
          body: JSON.stringify({
            name: "deploy check",
            condition: { kind: "above", symbol: "BTC-USD", level },
          }),
        });
        equal(res.status, 201, await res.clone().text());
        const { rule } = await res.json();
        type Item = { category: string; link: string; data: { ruleId?: string } };
        let items: Item[] = [];
        await waitFor(async () => {
          items = (await json<{ items: Item[] }>(app, "/api/notifications", {
            headers: { cookie },
          })).items;
          return items.length > 0;
        }, {
          timeoutMs: 20_000,
          what: "the alert's notification in GET /api/notifications",
          detail: () => app.output().slice(-1_500),
        });
        equal(items.length, 1, "one notification");
        deepStrictEqual(
          [items[0].category, items[0].link, items[0].data.ruleId],
          ["price_alert", "/markets/BTC-USD", rule.id],
        );
        const pushed = await inbox.take(
          (f) => f.type === "message" && (f.data as { type: string }).type === "notification",
          10_000,
          `the notification pushed on user:${userId}`,
        );
        equal((pushed.data as { item: { data: { ruleId: string } } }).item.data.ruleId, rule.id);
        const status = await json<Status>(app, "/api/websocket/status");
        equal(status.notifications.delivery.backend, "outbox");
        ok(status.notifications.delivery.processed >= 1, "delivered by the outbox runner");
        equal(status.notifications.deadLetters.count, 0);
      });

      await t.step("nothing was refused a permission; the KV was the default one", async () => {
        ok(!REFUSAL.test(app.output()), `a permission refusal:\n${app.output().slice(-3_000)}`);
        ok(await exists(`${kvDir}/kv.sqlite3`), `Deno.openKv() with no path used ${kvDir}`);
      });
    } finally {
      for (const ws of open) await ws.close().catch(() => {});
      await running?.stop();
      await Deno.remove(kvDir, { recursive: true }).catch(() => {});
    }
  },
});
