/**
 * End to end, as processes: the app under `deno serve --parallel` (2 isolates) on a KV
 * file, its only price source a fake Coinbase in this process (tests/fixtures/fake_venues.ts)
 * whose price the test sets. Rules are created over HTTP; the test reads the KV file directly
 * to see what was committed.
 *
 * 1. 100 `crosses_above` rules, the price crosses all of them: exactly 100 notifications,
 *    one per rule, none doubled (both isolates see every quote; one evaluates).
 * 2. 100 more rules, the price crosses them, and the process is killed with SIGKILL as soon
 *    as the first of them has fired (its state committed, the notifications not delivered);
 * 3. the same, killed as soon as the first of them reaches an inbox (deliveries in flight).
 *    After each restart on the same file every notification is in its inbox exactly once.
 */
import { equal, ok } from "node:assert/strict";
import { startApp } from "./_server.ts";
import { fetchWithin, waitFor } from "./_deadline.ts";
import { type FakeVenue, startFakeCoinbase } from "./fixtures/fake_venues.ts";
import type { Notification } from "../lib/notifications/types.ts";
import type { StoredRule } from "../lib/alerts/evaluate.ts";

const SYMBOLS = ["BTC-USD", "ETH-USD"];
const USERS = 6;
const PASSWORD = "violet-harbor-lantern";

async function inboxItems(kv: Deno.Kv): Promise<Notification[]> {
  const out: Notification[] = [];
  for await (const e of kv.list<Notification>({ prefix: ["notif"] })) {
    if (e.key[2] === "item") out.push(e.value);
  }
  return out;
}

async function storedRules(kv: Deno.Kv): Promise<StoredRule[]> {
  const out: StoredRule[] = [];
  for await (const e of kv.list<StoredRule>({ prefix: ["alert_rule"] })) out.push(e.value);
  return out;
}

async function dirtyMarkers(kv: Deno.Kv): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix: ["alert_dirty"] })) n++;
  return n;
}

/** A rule of `symbol` with a level in [from, to). */
function inRange(symbol: string, from: number, to: number) {
  return (r: StoredRule) =>
    r.condition.kind === "crosses_above" && r.condition.symbol === symbol &&
    r.condition.level >= from && r.condition.level < to;
}

/** Checks each of the `n` rules `which` selects fired once, with exactly one notification. */
function assertExactlyOnce(
  items: Notification[],
  rules: StoredRule[],
  which: (r: StoredRule) => boolean,
  n: number,
) {
  const fired = rules.filter(which);
  equal(fired.length, n, `${n} rules`);
  const ids = new Set(fired.map((r) => r.id));
  const byRule = new Map<string, number>();
  for (const item of items) {
    const id = String(item.data.ruleId);
    if (!ids.has(id)) continue;
    byRule.set(id, (byRule.get(id) ?? 0) + 1);
  }
  const symbol = (fired[0].condition as { symbol: string }).symbol;
  for (const rule of fired) {
    equal(rule.firedCount, 1, `rule ${rule.id} fired once`);
    equal(byRule.get(rule.id), 1, `rule ${rule.id}: one notification`);
    const item = items.find((i) => i.data.ruleId === rule.id)!;
    equal(item.link, `/markets/${symbol}`);
  }
  equal([...byRule.values()].reduce((a, b) => a + b, 0), n, `exactly ${n} notifications`);
}

Deno.test({
  name:
    "[alerts e2e] two isolates: 100 rules crossed → 100 notifications; kill -9 after firing / mid-delivery → each exactly once after restart",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "alerts_e2e_" });
    const path = `${dir}/kv.sqlite`;
    const coinbase: FakeVenue = startFakeCoinbase({ symbols: SYMBOLS });
    const prices: Record<string, number> = { "BTC-USD": 99_000, "ETH-USD": 2_900 };
    const pump = setInterval(() => {
      for (const s of SYMBOLS) {
        const p = prices[s] * (1 + 0.00001 * (Math.random() - 0.5));
        coinbase.tick(s, { price: p, bid: p - 0.5, ask: p + 0.5 });
      }
    }, 100);
    const env = {
      KV_PATH: path,
      PRICE_SOURCES: "coinbase",
      COINBASE_WS_URL: coinbase.url,
      PRICE_SYMBOLS: SYMBOLS.join(","),
      MARKET_TICK_MS: "100",
      PRICE_MAX_AGE_MS: "3000",
      SIGNUPS_PER_HOUR_PER_IP: "100",
      NOTIFY_RECOVERY_MS: "1000",
      CHAIN: "off",
    };
    let app = await startApp({ parallel: 2, env });
    const kv = await Deno.openKv(path);
    try {
      const priceIs = (symbol: string, near: number) =>
        waitFor(async () => {
          const board = await (await fetchWithin(`${app.origin}/api/prices`)).json();
          const q = board.quotes?.[symbol];
          return q && Math.abs(q.price - near) / near < 0.001;
        }, {
          timeoutMs: 30_000,
          what: `${symbol} near ${near}`,
          detail: () => app.output().slice(-1_500),
        });
      await priceIs("BTC-USD", 99_000);
      await priceIs("ETH-USD", 2_900);

      const cookies: string[] = [];
      for (let u = 0; u < USERS; u++) {
        const res = await fetchWithin(`${app.origin}/api/accounts`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ username: `trader${u}`, password: PASSWORD }),
        });
        equal(res.status, 201, await res.clone().text());
        await res.body?.cancel();
        cookies.push((res.headers.get("set-cookie") ?? "").split(";")[0]);
      }
      let round = 0;
      const addRules = async (symbol: string, base: number, step: number) => {
        round += 2; // spread each phase's rules over the users (≤ 50 each)
        for (let k = 0; k < 100; k++) {
          const res = await fetchWithin(`${app.origin}/api/alerts`, {
            method: "POST",
            headers: { "content-type": "application/json", cookie: cookies[(k + round) % USERS] },
            body: JSON.stringify({
              condition: { kind: "crosses_above", symbol, level: base + k * step },
            }),
          });
          equal(res.status, 201, await res.clone().text());
          await res.body?.cancel();
        }
        // The evaluating isolate has loaded them once it cleared the reload markers.
        await waitFor(async () => (await dirtyMarkers(kv)) === 0, {
          timeoutMs: 15_000,
          what: "the engine to load the new rules",
        });
      };

      // 1. 100 rules between 100 000 and 100 990; the price jumps to 101 500.
      await addRules("BTC-USD", 100_000, 10);
      prices["BTC-USD"] = 101_500;
      const t0 = performance.now();
      await waitFor(async () => (await inboxItems(kv)).length >= 100, {
        timeoutMs: 30_000,
        what: "100 notifications",
        detail: () => app.output().slice(-1_500),
      });
      console.log(
        `100 rules crossed → 100 notifications in ${Math.round(performance.now() - t0)} ms`,
      );
      await new Promise((r) => setTimeout(r, 1_500)); // more quotes: nothing more may come
      const phase1 = inRange("BTC-USD", 100_000, 101_000);
      assertExactlyOnce(await inboxItems(kv), await storedRules(kv), phase1, 100);

      const count = async (which: (r: StoredRule) => boolean, what: "fired" | "delivered") => {
        if (what === "fired") {
          return (await storedRules(kv)).filter((r) => which(r) && r.firedCount > 0).length;
        }
        const ids = new Set((await storedRules(kv)).filter(which).map((r) => r.id));
        return (await inboxItems(kv)).filter((i) => ids.has(String(i.data.ruleId))).length;
      };
      const crashAndRestart = async (
        which: (r: StoredRule) => boolean,
        when: "fired" | "delivered",
        total: number,
      ) => {
        // Poll with one range read: rules of this phase fired, or items past `total − 100`.
        const base = (await inboxItems(kv)).length;
        const at = await waitFor(async () => {
          if (when === "delivered") {
            let n = 0;
            for await (const e of kv.list({ prefix: ["notif"] })) if (e.key[2] === "item") n++;
            return n > base && n - base;
          }
          return (await count(which, "fired")) > 0;
        }, { timeoutMs: 30_000, what: `the first rule ${when}`, intervalMs: 2 });
        await app.kill();
        const after = {
          fired: await count(which, "fired"),
          delivered: await count(which, "delivered"),
        };
        console.log(
          `killed at the first ${when} (${at}): then ${after.fired} fired, ${after.delivered} delivered of 100`,
        );
        ok(
          after.delivered < 100,
          `the kill came while delivering (${after.delivered} of 100 were in)`,
        );
        app = await startApp({ parallel: 2, env });
        await waitFor(async () => (await inboxItems(kv)).length >= total, {
          timeoutMs: 60_000,
          what: `all ${total} notifications after the restart`,
          detail: () => app.output().slice(-1_500),
        });
        await new Promise((r) => setTimeout(r, 2_500)); // recoveries and sweeps: nothing more may come
      };

      // 2. 100 ETH rules; kill -9 as soon as the first of them has fired.
      await addRules("ETH-USD", 3_000, 1);
      prices["ETH-USD"] = 3_200;
      const phase2 = inRange("ETH-USD", 3_000, 3_100);
      await crashAndRestart(phase2, "fired", 200);

      // 3. 100 more BTC rules; kill -9 as soon as the first of their notifications is in.
      await addRules("BTC-USD", 102_000, 10);
      prices["BTC-USD"] = 103_500;
      const phase3 = inRange("BTC-USD", 102_000, 103_000);
      await crashAndRestart(phase3, "delivered", 300);

      const items = await inboxItems(kv);
      const rules = await storedRules(kv);
      assertExactlyOnce(items, rules, phase1, 100);
      assertExactlyOnce(items, rules, phase2, 100);
      assertExactlyOnce(items, rules, phase3, 100);
      equal(items.length, 300);
      equal(new Set(items.map((i) => i.id)).size, 300);
      const status = await (await fetchWithin(`${app.origin}/api/websocket/status`)).json();
      equal(status.notifications.deadLetters.count, 0, "nothing dead-lettered");
    } finally {
      clearInterval(pump);
      kv.close();
      await app.stop();
      await coinbase.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
