/**
 * `/api/notifications/*` and `/api/alerts*` through the real routes, in process: signed in
 * only, same origin for changes, per user, validated with the field and the reason, unknown
 * ids reported, and every change pushed on `user:{id}` with the counts.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { userChannel } from "../lib/app/channels.ts";
import type { InboxEvent, InboxPage } from "../lib/notifications/types.ts";
import { type InProcessApp, serveApp } from "./_app.ts";
import { waitFor } from "./_deadline.ts";

const PASSWORD = "violet-harbor-lantern";

async function signUp(app: InProcessApp, username: string) {
  const res = await app.request("/api/accounts", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  equal(res.status, 201, `sign up ${username}`);
  const { id } = await res.json();
  return { cookie: (res.headers.get("set-cookie") ?? "").split(";")[0], id: id as string };
}

function call(
  app: InProcessApp,
  cookie: string | null,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  return app.request(path, {
    method,
    headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function events(app: InProcessApp, userId: string): Promise<InboxEvent[]> {
  const page = await app.services.bus.history(userChannel(userId), { limit: 100 });
  return page.messages.map((m) => m.data as InboxEvent);
}

Deno.test({
  name: "[notifications api] inbox pages, seen / read / archive, read all, preferences, live push",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using app = await serveApp();
    const ada = await signUp(app, "ada_notes");
    const bob = await signUp(app, "bob_notes");
    const { notifications } = app.services;
    for (let i = 0; i < 12; i++) {
      await notifications.notify({
        userId: ada.id,
        category: i % 2 ? "price_alert" : "system",
        priority: "normal",
        title: `Note ${i}`,
        body: "",
        idempotencyKey: `t${i}`,
      });
    }
    const inbox = async (query = "", cookie = ada.cookie): Promise<InboxPage> => {
      const res = await call(app, cookie, "GET", `/api/notifications${query}`);
      equal(res.status, 200);
      return await res.json();
    };
    await waitFor(async () => (await inbox("?limit=100")).items.length === 12, {
      timeoutMs: 10_000,
      what: "12 deliveries",
    });

    await t.step("signed out 401; bad queries 400 with the field", async () => {
      equal((await call(app, null, "GET", "/api/notifications")).status, 401);
      for (
        const [q, field] of [["?limit=0", "limit"], ["?limit=x", "limit"], [
          "?filter=new",
          "filter",
        ]]
      ) {
        const res = await call(app, ada.cookie, "GET", `/api/notifications${q}`);
        equal(res.status, 400, q);
        equal((await res.json()).error.field, field);
      }
      deepEqual((await inbox("", bob.cookie)).items, [], "bob sees none of ada's");
    });

    await t.step("pages by cursor", async () => {
      const first = await inbox("?limit=5");
      deepEqual(first.counts, { unseen: 12, unread: 12 });
      ok(first.next);
      const second = await inbox(`?limit=5&cursor=${first.next}`);
      const third = await inbox(`?limit=5&cursor=${second.next}`);
      equal(third.next, null);
      const ids = [...first.items, ...second.items, ...third.items].map((i) => i.id);
      equal(new Set(ids).size, 12);
    });

    await t.step(
      "seen, read, archive: unknown ids reported, counts exact, pushed live",
      async () => {
        const { items } = await inbox("?limit=100");
        const res = await call(app, ada.cookie, "POST", "/api/notifications/seen", {
          ids: [items[0].id, items[1].id, "nope"],
        });
        equal(res.status, 200);
        const seen = await res.json();
        deepEqual(seen.updated, [items[0].id, items[1].id]);
        deepEqual(seen.unknown, ["nope"]);
        deepEqual(seen.counts, { unseen: 10, unread: 12 });
        const read = await (await call(app, ada.cookie, "POST", "/api/notifications/read", {
          ids: [items[0].id],
        })).json();
        deepEqual(read.counts, { unseen: 10, unread: 11 });
        const archived = await (await call(app, ada.cookie, "POST", "/api/notifications/archive", {
          ids: [items[11].id],
        })).json();
        deepEqual(archived.counts, { unseen: 9, unread: 10 });
        equal((await inbox("?filter=archived")).items.length, 1);
        equal((await inbox("?filter=unread")).items.length, 10);
        // Bob cannot touch ada's items: they are unknown to him.
        const foreign = await (await call(app, bob.cookie, "POST", "/api/notifications/read", {
          ids: [items[2].id],
        })).json();
        deepEqual(foreign.unknown, [items[2].id]);
        await waitFor(async () => {
          const last = (await events(app, ada.id)).at(-1);
          return last?.type === "updated" && last.counts.unread === 10;
        }, { timeoutMs: 5_000, what: "the archive pushed on user:{id}" });
        const all = await events(app, ada.id);
        equal(all.filter((e) => e.type === "notification").length, 12, "each delivery pushed once");
      },
    );

    await t.step(
      "read all up to the item in view; what arrives meanwhile stays unread",
      async () => {
        const top = (await inbox("?limit=1")).items[0];
        await notifications.notify({
          userId: ada.id,
          category: "mention",
          priority: "high",
          title: "Arrived meanwhile",
          body: "",
          idempotencyKey: "late",
        });
        await waitFor(
          async () => (await inbox("?limit=1")).items[0].title === "Arrived meanwhile",
          {
            timeoutMs: 5_000,
            what: "the late item",
          },
        );
        const res = await call(app, ada.cookie, "POST", "/api/notifications/read", {
          all: true,
          before: top.id,
        });
        const body = await res.json();
        equal(res.status, 200);
        equal(body.counts.unread, 1);
        deepEqual((await inbox("?filter=unread")).items.map((i) => i.title), ["Arrived meanwhile"]);
      },
    );

    await t.step("bad bodies, other origins, preferences", async () => {
      const cases: [unknown, number, string][] = [
        ["not json", 400, "bad_request"],
        [{ ids: [] }, 400, "bad_request"],
        [{ ids: Array.from({ length: 101 }, (_, i) => `x${i}`) }, 400, "bad_request"],
        [{ all: false }, 400, "bad_request"],
        [{ ids: ["a"], extra: 1 }, 400, "bad_request"],
        [{ ids: ["x".repeat(9000)] }, 413, "too_large"],
      ];
      for (const [body, status, code] of cases) {
        const res = await call(app, ada.cookie, "POST", "/api/notifications/read", body);
        equal(res.status, status, JSON.stringify(body).slice(0, 40));
        equal((await res.json()).error.code, code);
      }
      const cross = await call(app, ada.cookie, "POST", "/api/notifications/seen", { ids: ["a"] }, {
        origin: "https://evil.example",
      });
      equal(cross.status, 403);
      await cross.body?.cancel();
      equal((await call(app, null, "POST", "/api/notifications/seen", { ids: ["a"] })).status, 401);
      const prefs = await call(app, ada.cookie, "GET", "/api/notifications/preferences");
      deepEqual(await prefs.json(), { muted: [], minPriority: "low" });
      const put = await call(app, ada.cookie, "PUT", "/api/notifications/preferences", {
        muted: ["mention"],
        minPriority: "normal",
      });
      deepEqual(await put.json(), { muted: ["mention"], minPriority: "normal" });
      const bad = await call(app, ada.cookie, "PUT", "/api/notifications/preferences", {
        muted: ["spam"],
        minPriority: "normal",
      });
      equal(bad.status, 400);
      equal((await bad.json()).error.field, "muted.0");
    });
  },
});

Deno.test({
  name: "[alerts api] rules are validated with the field and the reason, limited, per user",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using app = await serveApp();
    const ada = await signUp(app, "ada_rules");
    const bob = await signUp(app, "bob_rules");
    const valid = { condition: { kind: "crosses_above", symbol: "BTC-USD", level: 100_000 } };

    await t.step("bad rules: 400 with field and reason; nothing stored", async () => {
      const cases: [unknown, string, RegExp][] = [
        [
          { condition: { kind: "above", symbol: "ZZZ-USD", level: 1 } },
          "condition.symbol",
          /unknown symbol "ZZZ-USD"/,
        ],
        [
          { ...valid, trigger: { mode: "every", cooldownMs: -5 } },
          "trigger.cooldownMs",
          /must not be negative/,
        ],
        [
          { condition: { kind: "above", symbol: "BTC-USD", level: "NaN" } },
          "condition.level",
          /finite number/,
        ],
        [
          { condition: { kind: "above", symbol: "BTC-USD", level: null } },
          "condition.level",
          /finite number/,
        ],
        [
          '{"condition":{"kind":"above","symbol":"BTC-USD","level":1e999}}',
          "condition.level",
          /finite number/,
        ],
        [
          { condition: { kind: "above", symbol: "BTC-USD", level: -3 } },
          "condition.level",
          /above 0/,
        ],
        [
          { condition: { kind: "sideways", symbol: "BTC-USD" } },
          "condition.kind",
          /must have a kind/,
        ],
        [{ ...valid, hysteresis: 0.5 }, "hysteresis", /at most 0.1/],
        [{ ...valid, expiresAt: 1 }, "expiresAt", /in the future/],
        [{ ...valid, colour: "red" }, "colour", /not a known field/],
        [
          { condition: { kind: "incoming_transfer", address: "0x12", minAmount: 1 } },
          "condition.address",
          /hex digits/,
        ],
        [
          { condition: { kind: "change_pct", symbol: "BTC-USD", window: "2h", pct: 5 } },
          "condition.window",
          /5m, 1h or 24h/,
        ],
      ];
      for (const [body, field, reason] of cases) {
        const res = await call(app, ada.cookie, "POST", "/api/alerts", body);
        equal(res.status, 400, JSON.stringify(body));
        const { error } = await res.json();
        equal(error.code, "invalid_rule");
        equal(error.field, field, JSON.stringify(body));
        match(error.reason, reason);
      }
      deepEqual((await (await call(app, ada.cookie, "GET", "/api/alerts")).json()).rules, []);
    });

    await t.step("create, list, pause, edit, delete; others see and touch nothing", async () => {
      const res = await call(app, ada.cookie, "POST", "/api/alerts", {
        ...valid,
        name: "BTC 100k",
      });
      equal(res.status, 201);
      const { rule } = await res.json();
      equal(rule.userId, ada.id);
      equal(rule.hysteresis, 0.001);
      deepEqual(rule.trigger, { mode: "once" });
      equal(rule.state, undefined, "the evaluation state is not shown");
      const listed = await (await call(app, ada.cookie, "GET", "/api/alerts")).json();
      equal(listed.rules.length, 1);
      equal(listed.limit, 50);
      const paused = await call(app, ada.cookie, "PATCH", `/api/alerts/${rule.id}`, {
        enabled: false,
      });
      equal((await paused.json()).rule.enabled, false);
      const edited = await call(app, ada.cookie, "PATCH", `/api/alerts/${rule.id}`, {
        condition: { kind: "below", symbol: "ETH-USD", level: 1_000 },
        name: null,
      });
      const after = (await edited.json()).rule;
      equal(after.condition.kind, "below");
      equal(after.name, undefined);
      const badPatch = await call(app, ada.cookie, "PATCH", `/api/alerts/${rule.id}`, {
        trigger: { mode: "every", cooldownMs: -1 },
      });
      equal((await badPatch.json()).error.field, "trigger.cooldownMs");
      equal(
        (await call(app, bob.cookie, "PATCH", `/api/alerts/${rule.id}`, { enabled: true })).status,
        404,
      );
      equal((await call(app, bob.cookie, "DELETE", `/api/alerts/${rule.id}`)).status, 404);
      const cross = await call(app, ada.cookie, "DELETE", `/api/alerts/${rule.id}`, undefined, {
        origin: "https://evil.example",
      });
      equal(cross.status, 403);
      await cross.body?.cancel();
      const del = await call(app, ada.cookie, "DELETE", `/api/alerts/${rule.id}`);
      deepEqual(await del.json(), { deleted: true });
      equal((await call(app, ada.cookie, "DELETE", `/api/alerts/${rule.id}`)).status, 404);
      equal((await call(app, null, "GET", "/api/alerts")).status, 401);
    });

    await t.step("at most 50 rules per user (400, field rules)", async () => {
      const made = await Promise.all(
        Array.from({ length: 52 }, (_, i) =>
          call(app, bob.cookie, "POST", "/api/alerts", {
            condition: { kind: "above", symbol: "BTC-USD", level: 1_000 + i },
          })),
      );
      const statuses = made.map((r) => r.status);
      equal(statuses.filter((s) => s === 201).length, 50, "even when sent at once");
      const refused = made.find((r) => r.status === 400)!;
      const { error } = await refused.json();
      equal(error.code, "too_many_rules");
      equal(error.field, "rules");
      await Promise.all(made.filter((r) => !r.bodyUsed).map((r) => r.body?.cancel()));
      equal((await (await call(app, bob.cookie, "GET", "/api/alerts")).json()).rules.length, 50);
    });
  },
});
