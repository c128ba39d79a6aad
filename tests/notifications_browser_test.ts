/**
 * The notification center and price alerts in a real Chromium, as a signed-in user lives
 * with them: two tabs of one user see a new notification and each other's reads; after
 * the connection drops and returns the counts are exact without a reload (recovered from
 * the channel's history, or re-read when the history cannot cover the gap); a price alert
 * set on the pair page fires as a toast, in the bell and in the inbox; /alerts lists,
 * pauses, edits and deletes rules; the panel works from the keyboard and pages on scroll;
 * desktop notifications are asked for only on a click; every page runs under its CSP with
 * a clean console and no serious accessibility violation (axe-core). Screenshots of the
 * open panel and of /alerts go to `SHOTS_DIR` when it is set.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import axe from "axe-core";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { BusMessage } from "../lib/bus/engine.ts";
import type { NotificationInput } from "../lib/notifications/types.ts";
import { type InProcessApp, serveApp } from "./_app.ts";
import { browserTest } from "./_browser.ts";

const WAIT = { timeout: 15_000 };
const PASSWORD = "violet-harbor-lantern";
/** The bound: from the server's push to both tabs showing it. */
const PUSH_TO_SCREEN_MS = 1_000;
/** Fast ticks, so a price rule is evaluated within a moment. */
const ENV = { MARKET_TICK_MS: "150", SIGNUPS_PER_HOUR_PER_IP: "50" };
const SHOTS_DIR = Deno.env.get("SHOTS_DIR");

interface Watched {
  /** Console errors and warnings, page errors, CSP violations. */
  problems: string[];
  /** Console lines that are expected (the browser logs every 4xx answer). */
  expected?: RegExp;
}

/** Records console errors and warnings, page errors and CSP violations of `page`. */
async function watch(page: Page, into: Watched): Promise<void> {
  page.on("console", (m) => {
    if (m.type() !== "error" && m.type() !== "warning") return;
    const line = `${m.type()}: ${m.text()} (${m.location().url})`;
    if (!into.expected?.test(line)) into.problems.push(line);
  });
  page.on("pageerror", (err) => into.problems.push(`pageerror: ${err.message}`));
  await page.exposeFunction("__reportViolation", (text: string) => into.problems.push(text));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      const report = (globalThis as unknown as { __reportViolation(t: string): void })
        .__reportViolation;
      report(`CSP ${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile})`);
    });
  });
}

interface User {
  context: BrowserContext;
  page: Page;
  userId: string;
  watched: Watched;
}

/** A fresh context signed up as `username`, on `/`, connected, its inbox loaded. */
async function signUp(
  browser: Browser,
  app: InProcessApp,
  username: string,
  options: { width?: number; colorScheme?: "dark" | "light"; bypassCSP?: boolean } = {},
): Promise<User> {
  const width = options.width ?? 1440;
  const context = await browser.newContext({
    viewport: { width, height: width < 600 ? 844 : 900 },
    colorScheme: options.colorScheme ?? "dark",
    bypassCSP: options.bypassCSP ?? false,
    ...(width < 600 ? { isMobile: true, hasTouch: true } : {}),
  });
  const watched: Watched = { problems: [] };
  const page = await context.newPage();
  await watch(page, watched);
  await page.goto(`${app.origin}/signup`);
  await page.fill("input[name=username]", username);
  await page.fill("input[name=password]", PASSWORD);
  await Promise.all([
    page.waitForURL(`${app.origin}/`, WAIT),
    page.click("form button[type=submit]"),
  ]);
  const userId = await page.getAttribute("meta[name=realtime-user]", "content") ?? "";
  ok(userId.length > 0, "the page names the signed-in user");
  await inboxReady(page);
  return { context, page, userId, watched };
}

/** Waits until the page is connected and its bell knows the counts. */
async function inboxReady(page: Page): Promise<void> {
  await page.waitForSelector(".conn[data-state=connected]", WAIT);
  await page.waitForSelector("[data-testid=nc-bell]:not([data-unseen=''])", WAIT);
}

/** The counts the bell of `page` shows. */
async function bellCounts(page: Page): Promise<{ unseen: number; unread: number }> {
  const [unseen, unread] = await page.$eval(
    "[data-testid=nc-bell]",
    (el) => [el.getAttribute("data-unseen"), el.getAttribute("data-unread")],
  );
  return { unseen: Number(unseen), unread: Number(unread) };
}

/** Waits until the bell of `page` shows `counts` (within `timeout`, ms). */
async function waitForCounts(
  page: Page,
  counts: { unseen?: number; unread?: number },
  timeout = WAIT.timeout,
): Promise<void> {
  await page.waitForFunction(
    (want) => {
      const el = document.querySelector("[data-testid=nc-bell]");
      if (!el) return false;
      return (want.unseen === undefined || el.getAttribute("data-unseen") === `${want.unseen}`) &&
        (want.unread === undefined || el.getAttribute("data-unread") === `${want.unread}`);
    },
    counts,
    // Polled by time, not by animation frame: a tab in the background draws no frames.
    { timeout, polling: 50 },
  ).catch(async (err) => {
    throw new Error(
      `the bell to show ${JSON.stringify(counts)} within ${timeout} ms; it shows ${
        JSON.stringify(await bellCounts(page))
      }: ${(err as Error).message.split("\n")[0]}`,
    );
  });
}

/**
 * Records, in the page, when its bell's counts change (`Date.now()` of the change): what
 * the user sees, timed by the page itself rather than by the test's polling.
 */
async function trackBell(page: Page): Promise<void> {
  await page.evaluate(() => {
    const el = document.querySelector("[data-testid=nc-bell]")!;
    const log: { unseen: string | null; unread: string | null; at: number }[] = [];
    (globalThis as unknown as { __bell: typeof log }).__bell = log;
    new MutationObserver(() =>
      log.push({
        unseen: el.getAttribute("data-unseen"),
        unread: el.getAttribute("data-unread"),
        at: Date.now(),
      })
    ).observe(el, { attributes: true, attributeFilter: ["data-unseen", "data-unread"] });
  });
}

/** When the bell of `page` first showed `value` for `key` (ms since the epoch), or null. */
async function bellChangedAt(
  page: Page,
  key: "unseen" | "unread",
  value: number,
): Promise<number | null> {
  return await page.evaluate(({ key, value }) => {
    const log = (globalThis as unknown as {
      __bell: { unseen: string | null; unread: string | null; at: number }[];
    }).__bell;
    return log.find((e) => e[key] === `${value}`)?.at ?? null;
  }, { key, value });
}

let keys = 0;
/** Enqueues a notification for `userId` (durable delivery, as producers do). */
async function notify(
  app: InProcessApp,
  userId: string,
  input: Partial<NotificationInput> & { title: string },
): Promise<void> {
  await app.services.notifications.notify({
    userId,
    category: "system",
    priority: "normal",
    body: "",
    idempotencyKey: `test-${++keys}`,
    ...input,
  });
}

/** Resolves with the first message published on `channel` that `match` accepts. */
function published(
  app: InProcessApp,
  channel: string,
  accept: (m: BusMessage) => boolean,
): Promise<number> {
  return new Promise((resolve) => {
    let done = false;
    app.services.bus.onMessage((m) => {
      if (!done && m.channel === channel && accept(m)) {
        done = true;
        resolve(Date.now());
      }
    });
  });
}

function titleOf(m: BusMessage): string | undefined {
  const d = m.data as { type?: string; item?: { title?: string } };
  return d?.type === "notification" ? d.item?.title : undefined;
}

/** Waits until `n` deliveries ran in this isolate (created, grouped, duplicate or filtered). */
async function waitDelivered(app: InProcessApp, n: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  let seen = 0;
  while (Date.now() < deadline) {
    const c = (await app.services.notifications.status()).counters;
    seen = c.created + c.grouped + c.duplicates + c.filtered;
    if (seen >= n) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Timed out after 30000 ms waiting for ${n} deliveries (${seen} ran)`);
}

async function openPanel(page: Page): Promise<void> {
  await page.click("[data-testid=nc-bell]");
  await page.waitForSelector("dialog[data-testid=nc-panel][open]", WAIT);
  await page.waitForSelector("[data-testid=nc-list]", { state: "attached", ...WAIT });
}

async function itemTitles(page: Page): Promise<string[]> {
  return await page.$$eval(
    "[data-testid=nc-item] .nc-title [data-nav]",
    (els) => els.map((e) => e.textContent ?? ""),
  );
}

/** Runs axe-core on `page` (its context must bypass the CSP); serious and critical ones. */
async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: axe.source });
  return await page.evaluate(async () => {
    const axe = (globalThis as unknown as {
      axe: {
        run(ctx: unknown, opts: unknown): Promise<{
          violations: { id: string; impact: string; nodes: { target: string[] }[] }[];
        }>;
      };
    }).axe;
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) =>
        `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`
      );
  });
}

/** Nothing wider than the viewport (no sideways scroll, nothing cut at the right edge). */
async function assertFits(page: Page, what: string): Promise<void> {
  const fit = await page.evaluate(() => {
    const inner = globalThis.innerWidth;
    const over = [...document.querySelectorAll("body *")]
      .filter((el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && getComputedStyle(el).visibility !== "hidden" &&
          r.right > inner + 0.5 && !el.closest("[aria-hidden=true]");
      })
      .map((el) => `${el.tagName.toLowerCase()}.${el.className}`)
      .slice(0, 5);
    return { scroll: document.documentElement.scrollWidth, inner, over };
  });
  ok(fit.scroll <= fit.inner, `${what}: scrollWidth ${fit.scroll} > ${fit.inner}`);
  deepEqual(fit.over, [], `${what}: nothing reaches past the right edge`);
}

async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  if (!SHOTS_DIR) return;
  await Deno.mkdir(SHOTS_DIR, { recursive: true });
  // Let the toast and panel transitions end.
  await page.waitForTimeout(300);
  await page.screenshot({ path: `${SHOTS_DIR}/${name}.png`, fullPage });
}

browserTest(
  "[notifications] two tabs: a new one shows in both, a read in one updates the other, counts exact after reconnects",
  async (browser) => {
    await using app = await serveApp({ env: ENV });
    const ada = await signUp(browser, app, "ada");
    const tab1 = ada.page;
    const tab2 = await ada.context.newPage();
    await watch(tab2, ada.watched);
    try {
      await tab2.goto(`${app.origin}/markets/ETH-USD`);
      await inboxReady(tab2);
      deepEqual(await bellCounts(tab1), { unseen: 0, unread: 0 });
      for (const p of [tab1, tab2]) await trackBell(p);
      equal(
        await tab1.getAttribute("[data-testid=nc-bell]", "aria-label"),
        "Notifications, none new",
      );

      // A new high notification: in both tabs' bells within a second of its push, with a
      // toast in each.
      const title = "BTC-USD crossed above $70,000";
      const pushed = published(app, `user:${ada.userId}`, (m) => titleOf(m) === title);
      await notify(app, ada.userId, {
        title,
        body: "Now $70,012.35",
        priority: "high",
        category: "price_alert",
        link: "/markets/BTC-USD",
      });
      const at = await pushed;
      for (const p of [tab1, tab2]) {
        await waitForCounts(p, { unseen: 1, unread: 1 });
        const shown = await bellChangedAt(p, "unseen", 1);
        ok(
          shown !== null && shown - at <= PUSH_TO_SCREEN_MS,
          `shown ${shown! - at} ms after the push`,
        );
      }
      equal(await tab1.getAttribute("[data-testid=nc-bell]", "aria-label"), "Notifications, 1 new");
      for (const p of [tab1, tab2]) {
        await p.waitForSelector(`[data-testid=nc-toast]:has-text("${title}")`, WAIT);
        equal(await p.getAttribute("[data-testid=nc-toast]", "role"), "status");
      }

      // Opening the panel in tab 1 marks what it shows seen: both bells drop the badge.
      await openPanel(tab1);
      deepEqual(await itemTitles(tab1), [title]);
      await Promise.all([tab1, tab2].map((p) => waitForCounts(p, { unseen: 0, unread: 1 })));
      equal(await tab2.$("[data-testid=nc-badge]"), null, "no badge at 0");
      equal(await tab1.$$eval("[data-testid=nc-toast]", (els) => els.length), 0);

      // Reading it in tab 1 updates tab 2 within a second.
      await tab1.bringToFront();
      await tab1.evaluate(() =>
        document.addEventListener("click", () => {
          (globalThis as unknown as { __clickAt: number }).__clickAt = Date.now();
        }, { capture: true, once: true })
      );
      await tab1.click("[data-testid=nc-item] [data-testid=nc-read]");
      await waitForCounts(tab2, { unread: 0 });
      const clickAt = await tab1.evaluate(() =>
        (globalThis as unknown as { __clickAt: number }).__clickAt
      );
      const readShown = await bellChangedAt(tab2, "unread", 0);
      ok(
        readShown !== null && readShown - clickAt <= PUSH_TO_SCREEN_MS,
        `tab 2 showed the read ${readShown! - clickAt} ms after the click`,
      );
      equal(await tab1.getAttribute("[data-testid=nc-item]", "data-unread"), "false");
      // The toast of a read item leaves tab 2 too.
      await tab2.waitForSelector("[data-testid=nc-toast]", { state: "detached", ...WAIT });
      await tab1.keyboard.press("Escape");
      await tab1.waitForSelector("dialog[data-testid=nc-panel]:not([open])", {
        state: "attached",
        ...WAIT,
      });
      equal(
        await tab1.evaluate(() => document.activeElement?.getAttribute("data-testid")),
        "nc-bell",
        "Escape closes and gives the focus back to the bell",
      );

      // The connection drops; meanwhile two arrive and one is read elsewhere. Back online,
      // both tabs show exactly the server's counts, without a reload (recovered).
      for (const p of [tab1, tab2]) {
        await p.evaluate(() => (globalThis as { __kept?: 1 }).__kept = 1);
      }
      // Inbox reads over HTTP from here on (a recovered reconnect needs none).
      const reads = { n: 0 };
      for (const p of [tab1, tab2]) {
        p.on("request", (r) => {
          if (new URL(r.url()).pathname === "/api/notifications") reads.n++;
        });
      }
      await ada.context.setOffline(true);
      for (const p of [tab1, tab2]) {
        await p.waitForSelector(".conn:not([data-state=connected])", WAIT);
      }
      await notify(app, ada.userId, { title: "While away 1" });
      await notify(app, ada.userId, { title: "While away 2" });
      await waitDelivered(app, 3);
      const store = app.services.notifications.store;
      let page = await store.list(ada.userId, {});
      const away1 = page.items.find((i) => i.title === "While away 1");
      ok(away1, "delivered while the tabs were offline");
      const change = await store.markRead(ada.userId, [away1.id]);
      await app.services.notifications.publishChange(ada.userId, change);
      page = await store.list(ada.userId, {});
      deepEqual(page.counts, { unseen: 1, unread: 1 });
      await ada.context.setOffline(false);
      for (const p of [tab1, tab2]) {
        await inboxReady(p);
        await waitForCounts(p, page.counts);
        equal(await p.evaluate(() => (globalThis as { __kept?: 1 }).__kept), 1, "not reloaded");
      }
      equal(reads.n, 0, "recovered from the channel's history: no inbox read");

      // A gap longer than the channel's history (100 messages): the SDK cannot recover, the
      // inbox is read again, and the counts are still exact.
      await ada.context.setOffline(true);
      for (const p of [tab1, tab2]) {
        await p.waitForSelector(".conn:not([data-state=connected])", WAIT);
      }
      const many = Array.from({ length: 110 }, (_, i) => i);
      for (let i = 0; i < many.length; i += 10) {
        await Promise.all(
          many.slice(i, i + 10).map((n) =>
            notify(app, ada.userId, { title: `Flood ${n}`, priority: "low", category: "wallet" })
          ),
        );
      }
      // Every one delivered (the rate bound may fold some into others) and published.
      await waitDelivered(app, 113);
      const history = await app.services.bus.history(`user:${ada.userId}`, { limit: 100 });
      ok(history.position.offset > 100, `${history.position.offset} messages on the channel`);
      page = await store.list(ada.userId, {});
      await ada.context.setOffline(false);
      for (const p of [tab1, tab2]) {
        await inboxReady(p);
        page = await store.list(ada.userId, {});
        await waitForCounts(p, page.counts);
        equal(await p.evaluate(() => (globalThis as { __kept?: 1 }).__kept), 1, "not reloaded");
      }
      ok(reads.n >= 2, `each tab read its inbox again (${reads.n} reads)`);
      await openPanel(tab2);
      equal((await itemTitles(tab2)).length, 20, "the first page, read again");
      deepEqual(ada.watched.problems, [], "no console error, page error or CSP violation");
    } finally {
      await ada.context.close();
    }
  },
);

/** The current price of `symbol` as the server has it. */
function priceOf(app: InProcessApp, symbol: string): number {
  const price = app.services.board()?.quotes[symbol]?.price;
  ok(price !== undefined, `a price for ${symbol}`);
  return price;
}

browserTest(
  "[notifications] a price alert set on the pair page fires: toast, bell, inbox; /alerts manages rules",
  async (browser) => {
    await using app = await serveApp({ env: ENV });
    const bob = await signUp(browser, app, "bob");
    const page = bob.page;
    // The refusals this test provokes on purpose.
    bob.watched.expected = /status of 400 \(Bad Request\) \(http:[^)]+\/api\/alerts(\/\w+)?\)$/;
    try {
      await page.goto(`${app.origin}/markets/BTC-USD`);
      await inboxReady(page);
      const form = "[data-testid=alert-form]";
      await page.waitForSelector(form, WAIT);
      const level = "#alert-BTC-USD-level";
      ok(Number(await page.inputValue(level)) > 0, "the level starts at the current price");

      // What the server refuses shows next to the field it names, with its reason.
      await page.fill(level, "-5");
      await page.click("[data-testid=alert-submit]");
      await page.waitForSelector("[data-testid=alert-error]", WAIT);
      equal(await page.getAttribute(level, "aria-invalid"), "true");
      match(await page.textContent("#alert-BTC-USD-level-error") ?? "", /must be above 0/);
      equal(await page.getAttribute(level, "aria-describedby"), "alert-BTC-USD-level-error");
      await page.selectOption("#alert-BTC-USD-mode", "every");
      await page.fill(level, "70000");
      await page.fill("#alert-BTC-USD-cooldownMin", "-1");
      await page.click("[data-testid=alert-submit]");
      await page.waitForSelector("#alert-BTC-USD-cooldownMin[aria-invalid=true]", WAIT);
      match(await page.textContent("#alert-BTC-USD-cooldownMin-error") ?? "", /negative/);
      equal(await page.$(`${level}[aria-invalid]`), null, "the level is fine now");
      await page.selectOption("#alert-BTC-USD-mode", "once");

      // "Above" a level below the price is true now: it fires on the next quote, once.
      const below = Math.floor(priceOf(app, "BTC-USD") * 0.5);
      await page.selectOption("#alert-BTC-USD-kind", "above");
      await page.fill(level, String(below));
      await page.selectOption("#alert-BTC-USD-priority", "high");
      await page.click("[data-testid=alert-submit]");
      await page.waitForSelector("[data-testid=alert-created]", WAIT);
      equal(await page.$("[data-testid=alert-error]"), null);
      const toast = await page.waitForSelector("[data-testid=nc-toast]", WAIT);
      match(await toast.textContent() ?? "", /BTC-USD/);
      equal(await toast.getAttribute("data-priority"), "high");
      await waitForCounts(page, { unseen: 1, unread: 1 });
      await openPanel(page);
      const item = "[data-testid=nc-item]";
      match(await page.textContent(`${item} .nc-meta`) ?? "", /Price alert/);
      equal(await page.getAttribute(item, "data-priority"), "high");
      const link = await page.getAttribute(`${item} .nc-title a`, "href");
      equal(link, "/markets/BTC-USD");
      // Following the link marks it read (the request survives the navigation).
      await Promise.all([
        page.waitForURL(`${app.origin}/markets/BTC-USD`, WAIT),
        page.click(`${item} .nc-title a`),
      ]);
      await inboxReady(page);
      await waitForCounts(page, { unseen: 0, unread: 0 });
      // The pair page lists the rule, paused after firing once.
      await page.waitForSelector("[data-testid=alert-here] li[data-enabled=false]", WAIT);

      // /alerts: the rule, when it fired; a second one made there; pause, resume, edit, delete.
      await page.goto(`${app.origin}/alerts`);
      await inboxReady(page);
      const rule = "[data-testid=rule]";
      await page.waitForSelector(rule, WAIT);
      equal(await page.getAttribute(rule, "data-status"), "paused");
      match(await page.textContent(`${rule} [data-testid=rule-fired]`) ?? "", /Last fired/);
      match(await page.textContent(`${rule} .rule-title`) ?? "", /^BTC-USD is above \$/);
      await page.selectOption("#new-alert-symbol", "ETH-USD");
      const ethLevel = Number(await page.inputValue("#new-alert-level"));
      ok(Math.abs(ethLevel / priceOf(app, "ETH-USD") - 1) < 0.05, "ETH's own price");
      await page.fill("#new-alert-level", String(Math.round(ethLevel * 3)));
      await page.click("#new-alert-title ~ form [data-testid=alert-submit]");
      await page.waitForFunction(
        () => document.querySelectorAll("[data-testid=rule]").length === 2,
        undefined,
        WAIT,
      );
      equal(await page.textContent("[data-testid=rule-count]"), "2 of 50");
      const eth = `${rule}:has(.rule-title:has-text("ETH-USD"))`;
      equal(await page.getAttribute(eth, "data-status"), "active");
      match(await page.textContent(`${eth} [data-testid=rule-fired]`) ?? "", /Never fired/);
      await page.click(`${eth} [data-testid=rule-toggle]`);
      await page.waitForSelector(`${eth}[data-status=paused]`, WAIT);
      await page.click(`${eth} [data-testid=rule-toggle]`);
      await page.waitForSelector(`${eth}[data-status=active]`, WAIT);
      // Edit: a refusal shows in the editor; a fix saves.
      await page.click(`${eth} [data-testid=rule-edit]`);
      const editor = `${eth} [data-testid=rule-editor]`;
      await page.waitForSelector(editor, WAIT);
      await page.fill(`${editor} input[name=level]`, "abc");
      await page.click(`${editor} button[type=submit]`);
      await page.waitForSelector(`${editor} input[name=level][aria-invalid=true]`, WAIT);
      await page.fill(`${editor} input[name=level]`, "99999");
      await page.click(`${editor} button[type=submit]`);
      await page.waitForSelector(`${rule} .rule-title:has-text("$99,999.00")`, WAIT);
      equal(await page.$(editor), null, "the editor closes");
      // Delete asks first.
      const ethNow = `${rule}:has(.rule-title:has-text("ETH-USD"))`;
      await page.click(`${ethNow} [data-testid=rule-delete]`);
      await page.click(`${ethNow} [data-testid=rule-confirm-delete]`);
      await page.waitForFunction(
        () => document.querySelectorAll("[data-testid=rule]").length === 1,
        undefined,
        WAIT,
      );
      deepEqual(
        (await app.services.alerts.rules.list(bob.userId)).map((r) => r.condition.kind),
        ["above"],
        "the server has the one left",
      );
      // Settings: mute a category, raise the lowest priority; the server keeps both.
      await page.uncheck("[data-testid=nc-settings] input[value=system]");
      await page.waitForSelector("[data-testid=nc-settings-status]:has-text('Saved.')", WAIT);
      await page.selectOption("#nc-min-priority", "normal");
      await page.waitForFunction(
        () =>
          document.querySelector("[data-testid=nc-settings-status]")?.textContent === "Saved." &&
          document.querySelector<HTMLSelectElement>("#nc-min-priority")?.value === "normal",
        undefined,
        WAIT,
      );
      deepEqual(await app.services.notifications.store.preferences(bob.userId), {
        muted: ["system"],
        minPriority: "normal",
      });
      deepEqual(bob.watched.problems, [], "no console error, page error or CSP violation");

      // Signed out: a prompt to sign in, on /alerts and on the pair page; no bell.
      const visitor = await browser.newContext();
      try {
        const v = await visitor.newPage();
        const seen: Watched = { problems: [] };
        await watch(v, seen);
        await v.goto(`${app.origin}/alerts`);
        equal(await v.getAttribute("[data-testid=alert-signin]", "href"), "/login?next=%2Falerts");
        await v.goto(`${app.origin}/markets/BTC-USD`);
        await v.waitForSelector(".conn[data-state=connected]", WAIT);
        equal(
          await v.getAttribute("[data-testid=alert-signin]", "href"),
          "/login?next=%2Fmarkets%2FBTC-USD",
        );
        equal(await v.$("[data-testid=nc-bell]"), null);
        deepEqual(seen.problems, []);
      } finally {
        await visitor.close();
      }
    } finally {
      await bob.context.close();
    }
  },
);

browserTest(
  "[notifications] the panel: keyboard, infinite scroll, grouping, mark all read, archive",
  async (browser) => {
    await using app = await serveApp({ env: ENV });
    const cy = await signUp(browser, app, "cyd");
    const page = cy.page;
    try {
      // Empty: says so.
      await openPanel(page);
      await page.waitForSelector("[data-testid=nc-empty]", WAIT);
      await page.keyboard.press("Escape");

      // 30 items, and three low ones of one group that become one item "×3".
      for (let i = 1; i <= 30; i++) await notify(app, cy.userId, { title: `Item ${i}` });
      for (let i = 0; i < 3; i++) {
        await notify(app, cy.userId, {
          title: "Gas price is low",
          priority: "low",
          groupKey: "gas",
          category: "wallet",
        });
      }
      await waitDelivered(app, 33);
      await waitForCounts(page, { unseen: 31, unread: 31 });
      // Opened afresh: the inbox is read page by page.
      await page.reload();
      await inboxReady(page);
      await waitForCounts(page, { unseen: 31, unread: 31 });
      equal(await page.textContent("[data-testid=nc-badge]"), "31");

      // Keyboard: the bell opens the dialog, the focus moves in and stays in.
      await page.focus("[data-testid=nc-bell]");
      await page.keyboard.press("Enter");
      await page.waitForSelector("dialog[data-testid=nc-panel][open]", WAIT);
      await page.waitForSelector("[data-testid=nc-item]", WAIT);
      const inside = () =>
        page.evaluate(() =>
          document.querySelector("dialog[data-testid=nc-panel]")!.contains(document.activeElement)
        );
      equal(await inside(), true, "the focus is in the dialog");
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press(i % 7 === 6 ? "Shift+Tab" : "Tab");
        equal(await inside(), true, `the focus stays in the dialog (Tab ${i + 1})`);
      }
      // Arrows move between rows.
      await page.focus("[data-testid=nc-item] [data-nav]");
      const row = () =>
        page.evaluate(() => document.activeElement?.closest("li")?.getAttribute("data-id"));
      const first = await row();
      await page.keyboard.press("ArrowDown");
      const second = await row();
      ok(second && second !== first, "ArrowDown: the next row");
      await page.keyboard.press("ArrowUp");
      equal(await row(), first, "ArrowUp: back");

      // The grouped item shows its count.
      const group = '[data-testid=nc-item]:has-text("Gas price is low")';
      match(await page.textContent(`${group} [data-testid=nc-count]`) ?? "", /×3/);
      equal(
        await page.$$eval('[data-testid=nc-item]:has-text("Gas price is low")', (e) => e.length),
        1,
      );

      // Infinite scroll: scrolling to the end reads the older pages, each item once.
      equal((await itemTitles(page)).length, 20);
      for (let i = 0; i < 5 && (await itemTitles(page)).length < 31; i++) {
        await page.$eval(".nc-scroll", (el) => el.scrollTop = el.scrollHeight);
        await page.waitForTimeout(200);
      }
      await page.waitForFunction(
        () => document.querySelectorAll("[data-testid=nc-item]").length === 31,
        undefined,
        { ...WAIT, polling: 50 },
      );
      const titles = await itemTitles(page);
      equal(new Set(titles).size, 31, "no duplicates");
      equal(await page.$("[data-testid=nc-more]"), null, "the end");
      // What was scrolled past is seen; what is unread stays unread.
      const shown = await bellCounts(page);
      ok(shown.unseen < 31 && shown.unread === 31, JSON.stringify(shown));

      // Mark all read, then one arrives: it stays unread.
      await page.click("[data-testid=nc-read-all]");
      await waitForCounts(page, { unread: 0 });
      await notify(app, cy.userId, { title: "After mark all" });
      await waitForCounts(page, { unread: 1 });
      equal(
        await page.getAttribute('[data-testid=nc-item]:has-text("After mark all")', "data-unread"),
        "true",
      );

      // Archive: it leaves the list and shows under Archived.
      await page.click('[data-testid=nc-item]:has-text("After mark all") [data-testid=nc-archive]');
      await waitForCounts(page, { unread: 0 });
      equal(await page.$('[data-testid=nc-item]:has-text("After mark all")'), null);
      await page.click(".nc-filters button[data-filter=archived]");
      await page.waitForSelector('[data-testid=nc-item]:has-text("After mark all")', WAIT);
      equal((await itemTitles(page)).length, 1);
      await page.click(".nc-filters button[data-filter=unread]");
      await page.waitForSelector("[data-testid=nc-empty]", WAIT);
      await page.keyboard.press("Escape");

      deepEqual(cy.watched.problems, [], "no console error, page error or CSP violation");
    } finally {
      await cy.context.close();
    }
  },
);

browserTest(
  "[notifications] desktop alerts: asked only on a click, shown for high items while hidden",
  async (browser) => {
    await using app = await serveApp({ env: ENV });
    const dee = await signUp(browser, app, "dee");
    const page = dee.page;
    try {
      // A recording Notification API, and a page the user is not looking at.
      const fake = () => {
        const g = globalThis as unknown as Record<string, unknown>;
        const shown: { title: string; tag?: string }[] = [];
        let asked = 0;
        class FakeNotification {
          static permission = "default";
          static requestPermission() {
            asked++;
            FakeNotification.permission = "granted";
            return Promise.resolve("granted");
          }
          onclick: (() => void) | null = null;
          constructor(title: string, options: { tag?: string } = {}) {
            shown.push({ title, tag: options.tag });
          }
          close() {}
        }
        g.Notification = FakeNotification;
        g.__desktop = () => ({ shown, asked });
        let hidden = false;
        Object.defineProperty(document, "visibilityState", {
          get: () => hidden ? "hidden" : "visible",
        });
        g.__hide = () => {
          hidden = true;
          document.dispatchEvent(new Event("visibilitychange"));
        };
      };
      await page.addInitScript(fake);
      await page.reload();
      await inboxReady(page);
      const desktop = () =>
        page.evaluate(() =>
          (globalThis as unknown as {
            __desktop(): { shown: { title: string; tag?: string }[]; asked: number };
          })
            .__desktop()
        );
      await openPanel(page);
      equal((await desktop()).asked, 0, "not asked before the click");
      await page.click("[data-testid=nc-desktop]");
      await page.waitForSelector("[data-testid=nc-desktop][aria-pressed=true]", WAIT);
      equal((await desktop()).asked, 1);
      await page.keyboard.press("Escape");
      await page.evaluate(() => (globalThis as unknown as { __hide(): void }).__hide());
      await notify(app, dee.userId, { title: "Low one", priority: "low" });
      await notify(app, dee.userId, { title: "Urgent one", priority: "critical" });
      await waitDelivered(app, 2);
      await page.waitForFunction(
        () =>
          (globalThis as unknown as { __desktop(): { shown: unknown[] } }).__desktop().shown
            .length >
            0,
        undefined,
        { ...WAIT, polling: 50 },
      );
      await page.waitForTimeout(600);
      const { shown } = await desktop();
      equal(shown.length, 1, "only the critical one");
      equal(shown[0].title, "Urgent one");
      match(shown[0].tag ?? "", /^realtime:/);
      deepEqual(dee.watched.problems, []);
    } finally {
      await dee.context.close();
    }
  },
);

browserTest(
  "[notifications] axe-core and layout: the open panel, the pair page's form and /alerts, 390 and 1440 px, dark and light",
  async (browser) => {
    await using app = await serveApp({ env: ENV });
    let n = 0;
    for (const colorScheme of ["dark", "light"] as const) {
      for (const width of [1440, 390]) {
        // Only here the CSP is bypassed: axe is injected as an inline script.
        const user = await signUp(browser, app, `eve${++n}`, {
          width,
          colorScheme,
          bypassCSP: true,
        });
        const { page, userId } = user;
        try {
          const btc = priceOf(app, "BTC-USD");
          await app.services.alerts.rules.create(userId, {
            condition: { kind: "crosses_below", symbol: "BTC-USD", level: Math.round(btc * 0.8) },
            trigger: { mode: "every", cooldownMs: 3_600_000 },
            priority: "high",
            name: "Buy the dip",
          });
          await app.services.alerts.rules.create(userId, {
            condition: { kind: "above", symbol: "ETH-USD", level: 1 },
            priority: "normal",
          });
          const samples: (Partial<NotificationInput> & { title: string })[] = [
            { title: "Deploy finished", body: "Version 2.4 is live.", category: "system" },
            {
              title: "Incoming transfer: 1.5 ETH",
              body: "From 0x8ba1…7a1f to your wallet 0x70997970…79c8, confirmed in block 1,204.",
              category: "wallet",
              link: "/",
            },
            {
              title: "Scheduled maintenance tonight",
              body: "Trading stays up; sign-in may be slow between 02:00 and 02:30 UTC.",
              priority: "critical",
            },
            { title: "@ada mentioned you in the lobby", category: "mention", link: "/" },
          ];
          for (const s of samples) await notify(app, userId, s);
          for (let i = 0; i < 3; i++) {
            await notify(app, userId, {
              title: "Gas is cheap right now",
              body: "Base fee under 5 gwei.",
              priority: "low",
              groupKey: "gas",
              category: "wallet",
            });
          }
          // Seven per user so far, and the users before had an alert fire each.
          await waitDelivered(app, 8 * n - 1);
          // The ETH rule fires (ETH is above 1): a price alert, high priority by its rule.
          await page.waitForSelector("[data-testid=nc-toast]", WAIT);
          await waitForCounts(page, { unseen: 6, unread: 6 });
          const tag = `${width}-${colorScheme}`;
          await shot(page, `toasts-${tag}`);

          await openPanel(page);
          await page.waitForFunction(
            () => document.querySelectorAll("[data-testid=nc-item]").length === 6,
            undefined,
            { ...WAIT, polling: 50 },
          );
          await page.click(
            '[data-testid=nc-item]:has-text("Deploy finished") [data-testid=nc-read]',
          );
          await page.hover('[data-testid=nc-item]:has-text("Incoming transfer")');
          await page.$eval(".nc-scroll", (el) => el.scrollTop = 0);
          await shot(page, `panel-${tag}`);
          if (width < 600) await assertFits(page, `panel at ${width}px`);
          deepEqual(await axeViolations(page), [], `panel open (${tag})`);
          await page.keyboard.press("Escape");

          await page.goto(`${app.origin}/markets/BTC-USD`);
          await inboxReady(page);
          await page.waitForSelector("[data-testid=alert-here]", WAIT);
          await shot(page, `pair-form-${tag}`, true);
          await assertFits(page, `pair page at ${width}px`);
          deepEqual(await axeViolations(page), [], `pair page (${tag})`);

          await page.goto(`${app.origin}/alerts`);
          await inboxReady(page);
          await page.waitForFunction(
            () => document.querySelectorAll("[data-testid=rule]").length === 2,
            undefined,
            WAIT,
          );
          await page.waitForSelector('[data-testid=rule]:has-text("Last fired")', WAIT);
          await shot(page, `alerts-${tag}`);
          await assertFits(page, `/alerts at ${width}px`);
          deepEqual(await axeViolations(page), [], `/alerts (${tag})`);
          // The editor open, with a refusal showing.
          await page.click('[data-testid=rule]:has-text("BTC-USD") [data-testid=rule-edit]');
          await page.fill("[data-testid=rule-editor] input[name=level]", "0");
          await page.click("[data-testid=rule-editor] button[type=submit]");
          await page.waitForSelector("[data-testid=rule-editor] [aria-invalid=true]", WAIT);
          await shot(page, `alerts-edit-${tag}`);
          deepEqual(await axeViolations(page), [], `/alerts editing (${tag})`);
        } finally {
          await user.context.close();
        }
      }
    }
  },
);
