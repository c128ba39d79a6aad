/**
 * End to end in Chromium: the app with `PRICE_SOURCES=coinbase,binance,kraken` pointed at
 * three local fake venues (tests/fixtures/fake_venues.ts) shows their median on the board
 * and on the pair page. Stopping one venue through its control API (`POST /control/down`)
 * lowers `sourcesUsed`, and the UI says so: the pair page's venue table marks the venue
 * `down` and the basis line counts one venue less, and a pair left with one venue shows
 * its `1 source` badge on the board. Bringing the venue back (`POST /control/up`)
 * restores all of it. (tests/prices_venues_test.ts is the same at the API level.)
 */
import { deepEqual, equal } from "node:assert/strict";
import type { Page } from "playwright-core";
import { serveApp } from "./_app.ts";
import { browserTest } from "./_browser.ts";
import { fetchWithin, waitFor } from "./_deadline.ts";
import {
  type FakeVenue,
  startFakeBinance,
  startFakeCoinbase,
  startFakeKraken,
} from "./fixtures/fake_venues.ts";
import type { Quote } from "../lib/prices/types.ts";

/** Coinbase does not list BNB: BNB has two venues, and one going down breaks its quorum. */
const LISTED: Record<string, string[]> = {
  coinbase: ["BTC-USD", "ETH-USD"],
  binance: ["BTC-USD", "ETH-USD", "BNB-USD"],
  kraken: ["BTC-USD", "ETH-USD", "BNB-USD"],
};
/** Each venue's prices. BTC: the median of three is Kraken's (100 020), of the other two 100 030. */
const PRICES: Record<string, Record<string, number>> = {
  coinbase: { "BTC-USD": 100_000, "ETH-USD": 3_000 },
  binance: { "BTC-USD": 100_060, "ETH-USD": 3_000, "BNB-USD": 600 },
  kraken: { "BTC-USD": 100_020, "ETH-USD": 3_000, "BNB-USD": 602 },
};
/** Deadline of one wait in the page, ms. */
const WAIT_MS = 20_000;
/** Deadline for the venue to be used again after it is back (the feed's backoff), ms. */
const BACK_MS = 45_000;

/** The text of `selector` in `page`, or null when it is not there. */
function textOf(page: Page, selector: string): Promise<string | null> {
  return page.evaluate(
    (sel) => document.querySelector(sel)?.textContent?.trim() ?? null,
    selector,
  );
}

/**
 * Waits until `check` holds in the page (polled with a deadline); the error names `what`
 * and shows `show()` as last seen.
 */
async function until(
  page: Page,
  what: string,
  check: () => boolean,
  show: () => string,
  timeoutMs = WAIT_MS,
): Promise<void> {
  try {
    await page.waitForFunction(check, undefined, { timeout: timeoutMs, polling: 50 });
  } catch (err) {
    const seen = await page.evaluate(show).catch(() => "(page gone)");
    throw new Error(
      `Timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${seen} (${err})`,
    );
  }
}

/** Waits for the text of `selector` to be `expected`. */
async function untilText(
  page: Page,
  selector: string,
  expected: string,
  timeoutMs = WAIT_MS,
): Promise<void> {
  let last: string | null = null;
  await waitFor(async () => (last = await textOf(page, selector)) === expected, {
    timeoutMs,
    what: `"${expected}" in ${selector}`,
    intervalMs: 50,
    detail: () => JSON.stringify(last),
  });
}

const boardRow = (symbol: string) => `.board tr[data-symbol="${symbol}"]`;
const venueRow = (venue: string) => `[data-testid=venues] tr[data-venue="${venue}"]`;

/** The venue table of the pair page: venue → status. */
function venueStatuses(page: Page): Promise<Record<string, string>> {
  return page.$$eval(
    "[data-testid=venues] tbody tr[data-venue]",
    (rows) =>
      Object.fromEntries(
        rows.map((r) => [r.getAttribute("data-venue"), r.getAttribute("data-status")]),
      ),
  );
}

/** What the board row of `symbol` says about its health: `data-health` and the badge. */
function rowHealth(page: Page, symbol: string): Promise<{ health: string; badge: string | null }> {
  return page.$eval(boardRow(symbol), (tr) => ({
    health: tr.getAttribute("data-health") ?? "",
    badge: tr.querySelector("[data-testid=badge]")?.textContent?.trim() ?? null,
  }));
}

browserTest(
  "[prices e2e] Chromium: the median of three fake venues, one venue down and back",
  async (browser) => {
    const venues: FakeVenue[] = [
      startFakeCoinbase({ symbols: LISTED.coinbase }),
      startFakeBinance({ symbols: LISTED.binance }),
      startFakeKraken({ symbols: LISTED.kraken }),
    ];
    // Keep every venue's prices fresh (max age 3 s here); a venue that is down just
    // remembers them for its next subscriber.
    const pump = setInterval(() => {
      for (const v of venues) {
        for (const [symbol, price] of Object.entries(PRICES[v.name])) {
          v.tick(symbol, { price, bid: price - 0.5, ask: price + 0.5 });
        }
      }
    }, 200);
    const kraken = venues.find((v) => v.name === "kraken")!;
    const control = async (action: "down" | "up") => {
      const res = await fetchWithin(`http://127.0.0.1:${kraken.port}/control/${action}`, {
        method: "POST",
      });
      equal(res.status, 200);
      equal((await res.json()).down, action === "down", `kraken ${action}`);
    };
    const url = (name: string) => venues.find((v) => v.name === name)!.url;
    let app: Awaited<ReturnType<typeof serveApp>> | undefined;
    try {
      app = await serveApp({
        env: {
          PRICE_SOURCES: "coinbase,binance,kraken",
          PRICE_SYMBOLS: "BTC-USD,ETH-USD,BNB-USD",
          COINBASE_WS_URL: url("coinbase"),
          BINANCE_WS_URL: url("binance"),
          KRAKEN_WS_URL: url("kraken"),
          PRICE_MAX_AGE_MS: "3000",
          MARKET_TICK_MS: "100",
          CHAIN: "off",
        },
      });
      const origin = app.origin;
      const quote = async (symbol: string): Promise<Quote | undefined> => {
        const board = await (await fetchWithin(`${origin}/api/prices`)).json();
        return board.quotes[symbol];
      };
      await waitFor(async () => (await quote("BTC-USD"))?.sourcesUsed === 3, {
        timeoutMs: 30_000,
        what: "a BTC-USD quote from three venues",
        detail: () => app!.output().slice(-2_000),
      });

      const context = await browser.newContext({
        locale: "en-US",
        viewport: { width: 1440, height: 900 },
      });
      const errors: string[] = [];
      try {
        const board = await context.newPage();
        const pair = await context.newPage();
        for (const page of [board, pair]) {
          page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
        }
        equal((await board.goto(`${origin}/`))?.status(), 200);
        equal((await pair.goto(`${origin}/markets/BTC-USD`))?.status(), 200);
        for (const page of [board, pair]) {
          await page.waitForSelector(".conn[data-state=connected]", { timeout: WAIT_MS });
        }

        // All three venues: the median on both pages, every venue used, no warning badge.
        await untilText(board, `${boardRow("BTC-USD")} [data-testid=price]`, "$100,020.00");
        await untilText(board, `${boardRow("BNB-USD")} [data-testid=price]`, "$601.00");
        deepEqual(await rowHealth(board, "BTC-USD"), { health: "ok", badge: null });
        deepEqual(await rowHealth(board, "BNB-USD"), { health: "ok", badge: null });
        await untilText(pair, ".pair-price [data-testid=price]", "$100,020.00");
        await until(
          pair,
          "three venues used on the pair page",
          () => document.querySelectorAll("[data-testid=venues] tr[data-status=used]").length === 3,
          () => document.querySelector("[data-testid=venues]")?.textContent ?? "no venue table",
        );
        deepEqual(await venueStatuses(pair), {
          coinbase: "used",
          binance: "used",
          kraken: "used",
        });
        equal(await textOf(pair, `${venueRow("kraken")} td.num`), "$100,020.00");
        equal(await textOf(pair, "[data-testid=badge]"), "3 sources");
        await untilText(pair, ".pair-basis .conf + span", "median of 3 of 3 venues");

        // Kraken goes down: its sockets drop and new ones are refused.
        await control("down");
        const btc = await waitFor(async () => {
          const q = await quote("BTC-USD");
          return q?.sourcesUsed === 2 && q;
        }, { timeoutMs: WAIT_MS, what: "BTC-USD sourcesUsed to drop to 2" });
        equal(btc.venues!.kraken.status, "down");
        const bnb = await quote("BNB-USD");
        equal(bnb?.sourcesUsed, 1);
        equal(bnb?.degraded, true);

        // The pair page: Kraken `down`, the basis counts two, the median of the two left.
        await until(
          pair,
          "Kraken down in the venue table",
          () =>
            document.querySelector(`[data-testid=venues] tr[data-venue="kraken"]`)
              ?.getAttribute("data-status") === "down",
          () => document.querySelector("[data-testid=venues]")?.textContent ?? "no venue table",
        );
        deepEqual(await venueStatuses(pair), {
          coinbase: "used",
          binance: "used",
          kraken: "down",
        });
        equal(await textOf(pair, `${venueRow("kraken")} .badge`), "down");
        await untilText(pair, ".pair-basis .conf + span", "median of 2 of 3 venues");
        await untilText(pair, "[data-testid=badge]", "2 sources");
        await untilText(pair, ".pair-price [data-testid=price]", "$100,030.00");

        // The board: BTC moves to the median of two and stays healthy (two make the
        // quorum) but says `2/3 sources`; BNB, left with Binance alone, is degraded and
        // says `1 source`.
        await untilText(board, `${boardRow("BTC-USD")} [data-testid=price]`, "$100,030.00");
        await untilText(board, `${boardRow("BNB-USD")} [data-testid=badge]`, "1 source");
        deepEqual(await rowHealth(board, "BNB-USD"), { health: "degraded", badge: "1 source" });
        await untilText(board, `${boardRow("BNB-USD")} [data-testid=price]`, "$600.00");
        await untilText(board, `${boardRow("BTC-USD")} [data-testid=badge]`, "2/3 sources");
        deepEqual(await rowHealth(board, "BTC-USD"), { health: "ok", badge: "2/3 sources" });

        // Kraken is back: the feed reconnects (with its backoff) and all is restored.
        await control("up");
        await until(
          pair,
          "Kraken used again in the venue table",
          () =>
            document.querySelector(`[data-testid=venues] tr[data-venue="kraken"]`)
              ?.getAttribute("data-status") === "used",
          () => document.querySelector("[data-testid=venues]")?.textContent ?? "no venue table",
          BACK_MS,
        );
        await untilText(pair, ".pair-basis .conf + span", "median of 3 of 3 venues");
        await untilText(pair, ".pair-price [data-testid=price]", "$100,020.00");
        await until(
          board,
          "BNB's badge to go once Kraken is back",
          () => !document.querySelector(`.board tr[data-symbol="BNB-USD"] [data-testid=badge]`),
          () => document.querySelector(`.board tr[data-symbol="BNB-USD"]`)?.textContent ?? "no row",
        );
        deepEqual(await rowHealth(board, "BNB-USD"), { health: "ok", badge: null });
        await untilText(board, `${boardRow("BTC-USD")} [data-testid=price]`, "$100,020.00");
        await untilText(board, `${boardRow("BNB-USD")} [data-testid=price]`, "$601.00");
        equal((await quote("BTC-USD"))?.sourcesUsed, 3);
        await until(
          board,
          "BTC's `2/3 sources` badge to go once Kraken is back",
          () => !document.querySelector(`.board tr[data-symbol="BTC-USD"] [data-testid=badge]`),
          () => document.querySelector(`.board tr[data-symbol="BTC-USD"]`)?.textContent ?? "no row",
        );
        deepEqual(errors, [], "no page error");
      } finally {
        await context.close();
      }
    } finally {
      clearInterval(pump);
      await app?.stop();
      await Promise.all(venues.map((v) => v.close()));
    }
  },
);
