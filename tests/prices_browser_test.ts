/**
 * The price pages in a real Chromium, as a trader uses them: the board sorts and filters,
 * the watchlist persists (in the browser, and in the account when signed in), a ticking
 * price can be selected and copied, the pair page draws candles that move, the phone
 * layout never scrolls sideways, and every page runs under its CSP with a clean console
 * and no serious accessibility violation (axe-core).
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import axe from "axe-core";
import type { BrowserContext, Page } from "playwright-core";
import { WATCHLIST_STORAGE_KEY } from "../lib/prices/ui/watchlist_client.ts";
import { type InProcessApp, serveApp } from "./_app.ts";
import { DEMO_PASSWORD } from "./_auth.ts";
import { browserTest } from "./_browser.ts";

const WAIT = { timeout: 15_000 };
/** Fast ticks, so "while it ticks" happens within a second or two. */
const ENV = { MARKET_TICK_MS: "100" };

interface Watched {
  /** Console errors and warnings, page errors. */
  errors: string[];
  /** Content-Security-Policy violations reported by the page. */
  violations: string[];
}

/** Records console errors, page errors and CSP violations of `page`. */
async function watch(page: Page): Promise<Watched> {
  const seen: Watched = { errors: [], violations: [] };
  page.on("console", (msg) => {
    if (msg.type() !== "error" && msg.type() !== "warning") return;
    const text = `${msg.type()}: ${msg.text()} (${msg.location().url})`;
    // The 404 page of the unknown pair is expected to say 404.
    if (/status of 404 .*\/markets\/NOPE-USD\)$/.test(text)) return;
    seen.errors.push(text);
  });
  page.on("pageerror", (err) => seen.errors.push(`pageerror: ${err.message}`));
  await page.exposeFunction("__reportViolation", (text: string) => seen.violations.push(text));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      const report = (globalThis as unknown as { __reportViolation(t: string): void })
        .__reportViolation;
      report(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile})`);
    });
  });
  return seen;
}

function assertClean(seen: Watched): void {
  deepEqual(seen.violations, [], "no CSP violation");
  deepEqual(seen.errors, [], "no console error, warning or page error");
}

async function openBoard(context: BrowserContext, app: InProcessApp) {
  const page = await context.newPage();
  const seen = await watch(page);
  const res = await page.goto(`${app.origin}/`);
  equal(res?.status(), 200);
  await page.waitForSelector(".conn[data-state=connected]", WAIT);
  return { page, seen };
}

/** The board's rows, top to bottom. */
function rowSymbols(page: Page): Promise<string[]> {
  return page.$$eval(
    ".board tbody tr[data-symbol]",
    (rows) => rows.map((r) => r.getAttribute("data-symbol") ?? ""),
  );
}

/** A formatted number as a number (`$67,012.35` → 67012.35, `-1.10%` → -1.1). */
function numberOf(text: string): number {
  return Number(text.replace(/[^\d.+-]/g, "").replace(/^\+/, ""));
}

async function columnNumbers(page: Page, testid: string): Promise<number[]> {
  const texts = await page.$$eval(
    `.board tbody tr[data-symbol] [data-testid=${testid}]`,
    (els) => els.map((e) => e.textContent ?? ""),
  );
  return texts.map(numberOf);
}

/**
 * Whether `values` are in `dir` order, allowing `slack` for what moved between the click
 * (the order is taken then) and the read (prices tick meanwhile).
 */
function ordered(values: number[], dir: "asc" | "desc", slack = 0): boolean {
  return values.every((v, i) =>
    i === 0 || (dir === "asc" ? values[i - 1] <= v + slack : values[i - 1] >= v - slack)
  );
}

async function sortBy(page: Page, key: string): Promise<string | null> {
  await page.click(`.board th[data-sort=${key}] button`);
  return await page.getAttribute(`.board th[data-sort=${key}]`, "aria-sort");
}

async function signIn(page: Page, app: InProcessApp): Promise<void> {
  await page.goto(`${app.origin}/login`);
  await page.fill("input[name=username]", "demo");
  await page.fill("input[name=password]", DEMO_PASSWORD);
  await Promise.all([
    page.waitForURL(`${app.origin}/`, WAIT),
    page.click("form.login-form button[type=submit]"),
  ]);
  await page.waitForSelector(".conn[data-state=connected]", WAIT);
}

function starOf(page: Page, symbol: string) {
  return page.locator(`.board tr[data-symbol="${symbol}"] button.star`);
}

browserTest(
  "[prices] board: sort, filter, watchlist in the browser, clean console",
  async (browser) => {
    await using app = await serveApp({ env: ENV });
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      const { page, seen } = await openBoard(context, app);
      equal((await rowSymbols(page)).length, 10);
      equal(
        await page.getAttribute(".board th[data-sort=volume]", "aria-sort"),
        "descending",
        "largest volume first by default",
      );

      // Sorting: each column, both ways, with aria-sort saying so.
      equal(await sortBy(page, "price"), "descending");
      ok(ordered(await columnNumbers(page, "price"), "desc"), "prices high to low");
      equal(await page.getAttribute(".board th[data-sort=volume]", "aria-sort"), null);
      equal(await sortBy(page, "price"), "ascending");
      ok(ordered(await columnNumbers(page, "price"), "asc"), "prices low to high");
      equal(await sortBy(page, "change"), "descending");
      ok(ordered(await columnNumbers(page, "change"), "desc", 0.25), "best change first");
      equal(await sortBy(page, "name"), "ascending");
      const names = await page.$$eval(
        ".board tbody tr[data-symbol] .pair-name",
        (els) => els.map((e) => e.textContent ?? ""),
      );
      deepEqual(names, [...names].sort((a, b) => a.localeCompare(b)), "names A to Z");
      equal(names[0], "Avalanche");

      // Filtering by name, by pair, and to nothing.
      await page.fill(".board-filter", "bit");
      await page.waitForFunction(() =>
        document.querySelectorAll(".board tbody tr[data-symbol]").length === 1
      );
      deepEqual(await rowSymbols(page), ["BTC-USD"]);
      await page.fill(".board-filter", "eth/usd");
      await page.waitForFunction(() =>
        document.querySelector(".board tbody tr[data-symbol]")?.getAttribute("data-symbol") ===
          "ETH-USD"
      );
      await page.fill(".board-filter", "zzz");
      await page.waitForSelector(".board-empty", WAIT);
      match(await page.textContent(".board-empty") ?? "", /No pair matches “zzz”/);
      await page.fill(".board-filter", "");
      await page.waitForFunction(() =>
        document.querySelectorAll(".board tbody tr[data-symbol]").length === 10
      );

      // The watchlist: a star, the watchlist view, kept across a reload in localStorage.
      await starOf(page, "ETH-USD").click();
      equal(await starOf(page, "ETH-USD").getAttribute("aria-pressed"), "true");
      await page.click("[data-testid=watchlist-tab]");
      deepEqual(await rowSymbols(page), ["ETH-USD"]);
      deepEqual(
        JSON.parse(
          await page.evaluate((k) => localStorage.getItem(k) ?? "null", WATCHLIST_STORAGE_KEY),
        ),
        ["ETH-USD"],
      );
      await page.reload();
      await page.waitForSelector(".conn[data-state=connected]", WAIT);
      await page.waitForSelector(
        '.board tr[data-symbol="ETH-USD"] button.star[aria-pressed=true]',
        WAIT,
      );
      equal(await page.getAttribute("[data-testid=watchlist-status]", "data-state"), "local");

      // Rows link to their pair's page.
      equal(
        await page.getAttribute('.board tr[data-symbol="SOL-USD"] [data-testid=pair-link]', "href"),
        "/markets/SOL-USD",
      );

      // While the connection is down, prices are dimmed and say so; back when it returns.
      await context.setOffline(true);
      await page.waitForSelector(".board[data-live=false]", WAIT);
      await page.waitForSelector("[data-testid=board-paused]", WAIT);
      const opacity = await page.$eval(
        '.board tr[data-symbol="BTC-USD"] .price-cell',
        (el) => getComputedStyle(el).opacity,
      );
      equal(opacity, "0.5");
      await context.setOffline(false);
      await page.waitForSelector(".board[data-live=true]", WAIT);

      // What a quote is based on shows: `stale` dims the row, `degraded` names the sources.
      // (Dated a minute ahead, so the producer's next quotes, older, cannot replace them.)
      const board = await (await app.request("/api/prices")).json();
      const ahead = Date.now() + 60_000;
      const inject = async () => {
        await app.services.bus.publish("prices:BTC-USD", {
          ...board.quotes["BTC-USD"],
          ts: ahead,
          stale: true,
        });
        await app.services.bus.publish("prices:ETH-USD", {
          ...board.quotes["ETH-USD"],
          ts: ahead,
          degraded: true,
          sourcesUsed: 1,
        });
      };
      // The page may still be re-subscribing after going online (its snapshot comes from
      // the board, which never holds these): publish until the live path has carried them.
      const deadlineAt = Date.now() + 15_000;
      for (;;) {
        await inject();
        const shown = await page.waitForSelector(
          '.board tr[data-symbol="BTC-USD"][data-health=stale]',
          { timeout: 1_000 },
        ).then(() => true, () => false);
        if (shown) break;
        if (Date.now() > deadlineAt) {
          throw new Error("Timed out after 15 s waiting for BTC-USD's row to show stale");
        }
      }
      equal(
        await page.textContent('.board tr[data-symbol="BTC-USD"] [data-testid=badge]'),
        "stale",
      );
      equal(
        await page.$eval(
          '.board tr[data-symbol="BTC-USD"] .price-cell',
          (el) => getComputedStyle(el).opacity,
        ),
        "0.5",
      );
      await page.waitForSelector('.board tr[data-symbol="ETH-USD"] [data-testid=badge]', WAIT);
      equal(
        await page.textContent('.board tr[data-symbol="ETH-USD"] [data-testid=badge]'),
        "1 source",
      );

      // A tick flashes only the price cell, with an arrow; never under reduced motion.
      await page.waitForSelector(".board .price-cell[data-dir]", WAIT);
      const flashed = await page.$$eval(
        ".board [class*=flash-]",
        (els) => [...new Set(els.map((e) => e.classList.contains("price-cell")))],
      );
      deepEqual(flashed.filter((isPrice) => !isPrice), [], "only price cells flash");
      match(await page.textContent(".board .price-cell[data-dir] .tick") ?? "", /^[▲▼]$/);
      await page.emulateMedia({ reducedMotion: "reduce" });
      const animated = await page.evaluate(async () => {
        const deadline = Date.now() + 5_000;
        while (Date.now() < deadline) {
          const cell = document.querySelector(".board [class*=flash-]");
          if (cell) return getComputedStyle(cell).animationName;
          await new Promise((r) => setTimeout(r, 20));
        }
        return "no flash seen";
      });
      equal(animated, "none", "no flash animation under prefers-reduced-motion");
      assertClean(seen);
    } finally {
      await context.close();
    }
  },
);

browserTest("[prices] the watchlist is kept in the account when signed in", async (browser) => {
  await using app = await serveApp({ env: ENV });
  const first = await browser.newContext();
  const second = await browser.newContext();
  try {
    const page = await first.newPage();
    const seen = await watch(page);
    await signIn(page, app);
    await page.waitForSelector("[data-testid=watchlist-status][data-state=synced]", WAIT);
    const saved = page.waitForResponse(
      (r) => r.url().endsWith("/api/watchlist") && r.request().method() === "PUT",
      WAIT,
    );
    await starOf(page, "SOL-USD").click();
    equal((await saved).status(), 200);
    await page.waitForSelector("[data-testid=watchlist-status][data-state=synced]", WAIT);
    equal(
      await page.evaluate((k) => localStorage.getItem(k), WATCHLIST_STORAGE_KEY),
      null,
      "not in this browser's storage: in the account",
    );
    assertClean(seen);

    // Another browser, the same account: the star is there.
    const other = await second.newPage();
    await signIn(other, app);
    await other.waitForSelector(
      '.board tr[data-symbol="SOL-USD"] button.star[aria-pressed=true]',
      WAIT,
    );
    equal(await starOf(other, "BTC-USD").getAttribute("aria-pressed"), "false");
  } finally {
    await first.close();
    await second.close();
  }
});

browserTest("[prices] a price can be selected and copied while it ticks", async (browser) => {
  await using app = await serveApp({ env: ENV });
  const context = await browser.newContext({ permissions: ["clipboard-read", "clipboard-write"] });
  try {
    const { page, seen } = await openBoard(context, app);
    const price = '.board tr[data-symbol="BTC-USD"] [data-testid=price]';
    // Select the price as a mouse drag does: boundaries inside its text node.
    const selected = await page.$eval(price, (el) => {
      const node = el.firstChild as Text;
      const range = document.createRange();
      range.setStart(node, 0);
      range.setEnd(node, node.length);
      getSelection()!.removeAllRanges();
      getSelection()!.addRange(range);
      (el.closest("tr") as unknown as { __kept: boolean }).__kept = true;
      const counter = globalThis as unknown as { __changes: number };
      counter.__changes = 0;
      new MutationObserver((records) => counter.__changes += records.length)
        .observe(el, { characterData: true, subtree: true, childList: true });
      return getSelection()!.toString();
    });
    match(selected, /^\$[\d,]+\.\d{2}$/);
    // Three ticks of this price.
    await page.waitForFunction(
      () => (globalThis as unknown as { __changes: number }).__changes >= 3,
      undefined,
      WAIT,
    );
    const after = await page.$eval(price, (el) => ({
      text: el.textContent,
      selection: getSelection()!.toString(),
      sameRow: (el.closest("tr") as unknown as { __kept?: boolean }).__kept === true,
      nodes: el.childNodes.length,
    }));
    equal(after.sameRow, true, "the row was not rebuilt");
    equal(after.nodes, 1, "one text node, changed in place");
    equal(after.selection, after.text, "the whole current price is still selected");
    await page.keyboard.press("Control+C");
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    match(copied, /^\$[\d,]+\.\d{2}$/, `copied: ${copied}`);
    assertClean(seen);
  } finally {
    await context.close();
  }
});

/** Pixels of the chart's canvases that are not transparent. */
function paintedPixels(page: Page): Promise<number> {
  return page.$$eval("[data-testid=chart] canvas", (canvases) =>
    canvases.reduce((sum, el) => {
      const c = el as HTMLCanvasElement;
      const ctx = c.getContext("2d");
      if (!ctx || c.width === 0 || c.height === 0) return sum;
      const data = ctx.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
      return sum + n;
    }, 0));
}

browserTest("[prices] the pair page draws candles that update live", async (browser) => {
  await using app = await serveApp({ env: ENV });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  try {
    const page = await context.newPage();
    const seen = await watch(page);
    const res = await page.goto(`${app.origin}/markets/BTC-USD`);
    equal(res?.status(), 200);
    await page.waitForSelector(".conn[data-state=connected]", WAIT);
    await page.waitForSelector("[data-testid=chart][data-state=ready]", WAIT);
    const chart = "[data-testid=chart]";
    ok(Number(await page.getAttribute(chart, "data-bars")) >= 1, "at least one candle");
    ok((await paintedPixels(page)) > 500, "the canvas is drawn");
    // Live: the last candle moves (a new close, or a new minute).
    const before = await page.$eval(
      chart,
      (el) => `${el.dataset.lastTime}/${el.dataset.lastClose}`,
    );
    await page.waitForFunction(
      (prev) => {
        const el = document.querySelector<HTMLElement>("[data-testid=chart]")!;
        return `${el.dataset.lastTime}/${el.dataset.lastClose}` !== prev;
      },
      before,
      WAIT,
    );
    // A late update cannot break the chart: one older than every bar is dropped and
    // counted; one for a bar it has merges into it. Neither throws.
    const first = await page.$eval(chart, (el) => {
      const d = el.dataset;
      return { dropped: Number(d.dropped), lastTime: Number(d.lastTime) };
    });
    const late = (t: number) => ({ t, o: 1, h: 1, l: 1, c: 1, v: 0, n: 0 });
    await app.services.bus.publish("candles:BTC-USD", late(first.lastTime - 24 * 3_600_000));
    await page.waitForFunction(
      (n) =>
        Number(document.querySelector<HTMLElement>("[data-testid=chart]")!.dataset.dropped) > n,
      first.dropped,
      WAIT,
    );
    // And the live candle goes on after it.
    const afterLate = await page.$eval(
      chart,
      (el) => `${el.dataset.lastTime}/${el.dataset.lastClose}`,
    );
    await page.waitForFunction(
      (prev) => {
        const el = document.querySelector<HTMLElement>("[data-testid=chart]")!;
        return `${el.dataset.lastTime}/${el.dataset.lastClose}` !== prev;
      },
      afterLate,
      WAIT,
    );
    // The live price is in the tab title.
    const title = await page.title();
    match(title, /^\$[\d,]+\.\d{2} · BTC-USD · Realtime$/);
    await page.waitForFunction((t) => document.title !== t, title, WAIT);
    // The 1 h view draws too.
    await page.click("button[data-interval='1h']");
    equal(await page.getAttribute("button[data-range='6h']", "aria-pressed"), "true", "6 h kept");
    await page.click("button[data-range='7d']");
    equal(await page.getAttribute("button[data-interval='1h']", "aria-pressed"), "true");
    await page.waitForSelector(
      "[data-testid=chart]:is([data-state=ready],[data-state=empty])",
      WAIT,
    );
    // An unknown pair is a 404 page.
    const missing = await page.goto(`${app.origin}/markets/NOPE-USD`);
    equal(missing?.status(), 404);
    match(await page.textContent("h1") ?? "", /Page not found/);
    assertClean(seen);
  } finally {
    await context.close();
  }
});

browserTest("[prices] numbers follow the browser's locale, with the currency", async (browser) => {
  await using app = await serveApp({ env: ENV });
  const context = await browser.newContext({ locale: "de-DE" });
  try {
    const { page, seen } = await openBoard(context, app);
    const btc = '.board tr[data-symbol="BTC-USD"]';
    // The server renders en-US; the page switches to the browser's locale once it runs.
    await page.waitForFunction(
      (sel) =>
        /^\d{1,3}(\.\d{3})*,\d{2}\u00a0\$$/.test(document.querySelector(sel)?.textContent ?? ""),
      `${btc} [data-testid=price]`,
      WAIT,
    );
    match(await page.textContent(`${btc} [data-testid=change]`) ?? "", /^[+-]?\d+,\d{2}\u00a0%$/);
    assertClean(seen);
  } finally {
    await context.close();
  }
});

browserTest("[prices] phone: no sideways scroll at 360 and 390 px", async (browser) => {
  await using app = await serveApp({ env: ENV });
  for (const width of [360, 390]) {
    const context = await browser.newContext({
      viewport: { width, height: 780 },
      isMobile: true,
      hasTouch: true,
    });
    try {
      const page = await context.newPage();
      const seen = await watch(page);
      for (const path of ["/", "/markets/BTC-USD"]) {
        await page.goto(`${app.origin}${path}`);
        await page.waitForSelector(".conn[data-state=connected]", WAIT);
        const fit = await page.evaluate(() => {
          const inner = globalThis.innerWidth;
          // Wider content clipped by an `overflow: hidden` box is as bad as a scroll.
          const over = [...document.querySelectorAll("main *")]
            .filter((el) => {
              const r = el.getBoundingClientRect();
              return r.width > 0 && getComputedStyle(el).visibility !== "hidden" &&
                r.right > inner + 0.5;
            })
            .map((el) => `${el.tagName.toLowerCase()}.${el.className}`)
            .slice(0, 5);
          return { scroll: document.documentElement.scrollWidth, inner, over };
        });
        ok(
          fit.scroll <= fit.inner,
          `${path} at ${width}px: scrollWidth ${fit.scroll} > ${fit.inner}`,
        );
        deepEqual(fit.over, [], `${path} at ${width}px: nothing reaches past the right edge`);
      }
      assertClean(seen);
    } finally {
      await context.close();
    }
  }
});

browserTest("[prices] axe-core: no serious or critical violation", async (browser) => {
  await using app = await serveApp({ env: ENV });
  for (const colorScheme of ["dark", "light"] as const) {
    // Only here the CSP is bypassed: axe is injected as an inline script.
    const context = await browser.newContext({ bypassCSP: true, colorScheme });
    try {
      const page = await context.newPage();
      for (const path of ["/", "/markets/BTC-USD"]) {
        await page.goto(`${app.origin}${path}`);
        await page.waitForSelector(".conn[data-state=connected]", WAIT);
        await page.addScriptTag({ content: axe.source });
        const violations = await page.evaluate(async () => {
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
              `${v.id} (${v.impact}): ${
                v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")
              }`
            );
        });
        deepEqual(violations, [], `${path} (${colorScheme}): ${violations.join(" | ")}`);
      }
    } finally {
      await context.close();
    }
  }
});
