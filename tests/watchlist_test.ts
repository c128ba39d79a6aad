/**
 * `GET/PUT /api/watchlist` through the real routes, in process: per user, signed in
 * only, same origin only, validated and bounded; and the pair page's 404.
 */
import { deepEqual, equal, match } from "node:assert/strict";
import { watchlistKey } from "../lib/kv/keys.ts";
import { type InProcessApp, serveApp } from "./_app.ts";

const PASSWORD = "violet-harbor-lantern";

/** Signs up `username` through the JSON API; returns the session cookie pair. */
async function signUp(
  app: InProcessApp,
  username: string,
): Promise<{ cookie: string; id: string }> {
  const res = await app.request("/api/accounts", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  equal(res.status, 201, `sign up ${username}`);
  const { id } = await res.json();
  return { cookie: (res.headers.get("set-cookie") ?? "").split(";")[0], id };
}

function put(app: InProcessApp, cookie: string | null, body: string, headers = {}) {
  return app.request("/api/watchlist", {
    method: "PUT",
    headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}), ...headers },
    body,
  });
}

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  return (await res.json()).error;
}

Deno.test("[watchlist] GET/PUT /api/watchlist: per user, validated, same origin", async (t) => {
  await using app = await serveApp();
  const ada = await signUp(app, "ada");
  const bob = await signUp(app, "bob");

  await t.step("signed out: 401 both ways", async () => {
    const get = await app.request("/api/watchlist");
    equal(get.status, 401);
    equal((await errorOf(get)).code, "unauthorized");
    const res = await put(app, null, '{"symbols":["BTC-USD"]}');
    equal(res.status, 401);
    await res.body?.cancel();
  });

  await t.step("a user's list is kept and read back, only for them", async () => {
    const empty = await app.request("/api/watchlist", { headers: { cookie: ada.cookie } });
    equal(empty.status, 200);
    equal(empty.headers.get("cache-control"), "no-store");
    deepEqual(await empty.json(), { symbols: [] });
    const res = await put(app, ada.cookie, '{"symbols":["ETH-USD","BTC-USD","ETH-USD"]}');
    equal(res.status, 200);
    deepEqual(await res.json(), { symbols: ["ETH-USD", "BTC-USD"] });
    const back = await app.request("/api/watchlist", { headers: { cookie: ada.cookie } });
    deepEqual(await back.json(), { symbols: ["ETH-USD", "BTC-USD"] });
    const other = await app.request("/api/watchlist", { headers: { cookie: bob.cookie } });
    deepEqual(await other.json(), { symbols: [] }, "bob does not see ada's list");
    const stored = await app.services.kv.get<{ symbols: string[] }>(watchlistKey(ada.id));
    deepEqual(stored.value?.symbols, ["ETH-USD", "BTC-USD"], "kept in KV under the user");
  });

  await t.step("bad bodies: 400 or 413 with the reason; nothing stored", async () => {
    const cases: [string, number, RegExp][] = [
      ["not json", 400, /not JSON/],
      ['{"symbols":"BTC-USD"}', 400, /Expected a JSON object/],
      ['{"symbols":["btc"]}', 400, /Not a pair/],
      ['{"symbols":["ZZZ-USD"]}', 400, /Unknown pair "ZZZ-USD"/],
      [
        JSON.stringify({ symbols: Array.from({ length: 51 }, (_, i) => `A${i}-USD`) }),
        400,
        /at most 50/,
      ],
      [JSON.stringify({ symbols: ["BTC-USD"], pad: "x".repeat(3000) }), 413, /exceeds 2048 bytes/],
    ];
    for (const [body, status, message] of cases) {
      const res = await put(app, bob.cookie, body);
      equal(res.status, status, body.slice(0, 40));
      match((await errorOf(res)).message, message);
    }
    equal((await app.services.kv.get(watchlistKey(bob.id))).value, null);
  });

  await t.step("another site's page cannot write it (403)", async () => {
    const res = await put(app, ada.cookie, '{"symbols":[]}', { origin: "https://evil.example" });
    equal(res.status, 403);
    equal((await errorOf(res)).code, "bad_origin");
    const back = await app.request("/api/watchlist", { headers: { cookie: ada.cookie } });
    deepEqual(await back.json(), { symbols: ["ETH-USD", "BTC-USD"] }, "unchanged");
  });

  await t.step("saves are rate limited per user (429 with Retry-After)", async () => {
    let status = 0;
    let retryAfter: string | null = null;
    for (let i = 0; i < 70 && status !== 429; i++) {
      const res = await put(app, bob.cookie, '{"symbols":["SOL-USD"]}');
      status = res.status;
      retryAfter = res.headers.get("retry-after");
      await res.body?.cancel();
    }
    equal(status, 429);
    match(retryAfter ?? "", /^\d+$/);
  });
});

Deno.test("[markets] /markets/{SYMBOL}: the pair page, 404 for anything else", async () => {
  await using app = await serveApp();
  const res = await app.request("/markets/BTC-USD");
  equal(res.status, 200);
  const html = await res.text();
  match(html, /<title>\$[\d,]+\.\d{2} · BTC-USD · Realtime<\/title>/);
  match(html, /data-testid="price"[^>]*>\$[\d,]+\.\d+</, "the price is in the first HTML");
  match(html, /data-testid="chart"/);
  for (
    const path of ["/markets/ZZZ-USD", "/markets/btc-usd", "/markets/%3Cscript%3E", "/markets/"]
  ) {
    const miss = await app.request(path);
    const expected = path === "/markets/" ? [307, 404] : [404];
    equal(expected.includes(miss.status), true, `${path}: ${miss.status}`);
    await miss.body?.cancel();
  }
});
