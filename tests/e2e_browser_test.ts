/**
 * The dashboard in a real Chromium: server-rendered prices, live updates without reload,
 * the connection indicator across a server process stop and restart, and signing in
 * (against the app in process).
 */
import { equal, ok } from "node:assert/strict";
import type { Page } from "playwright-core";
import { browserTest } from "./_browser.ts";
import { serveApp } from "./_app.ts";
import { fetchWithin, waitFor } from "./_deadline.ts";
import { startApp } from "./_server.ts";

async function priceTexts(page: Page): Promise<string[]> {
  return await page.$$eval("[data-testid=price]", (els) => els.map((e) => e.textContent ?? ""));
}

async function waitForPriceChange(page: Page, timeoutMs: number): Promise<void> {
  const before = await priceTexts(page);
  await page.waitForFunction(
    (prev) => {
      const now = [...document.querySelectorAll("[data-testid=price]")].map((e) => e.textContent);
      return now.some((text, i) => text !== prev[i]);
    },
    before,
    { timeout: timeoutMs },
  );
}

browserTest("[e2e] live prices and the connection indicator across a restart", async (browser) => {
  const env = { MARKET_TICK_MS: "100" };
  let app = await startApp({ env });
  const page = await browser.newPage();
  try {
    const response = await page.goto(`${app.origin}/`);
    equal(response?.status(), 200);
    const firstHtml = await response!.text();
    ok(/data-testid="price"[^>]*>\$[\d,]+\.\d+</.test(firstHtml), "prices are in the first HTML");
    const initial = await priceTexts(page);
    equal(initial.length, 10);
    ok(initial.every((p) => /^\$[\d,]+\.\d+$/.test(p)), `rendered prices: ${initial}`);

    await page.waitForSelector(".conn[data-state=connected]", { timeout: 5_000 });
    await waitForPriceChange(page, 2_000);

    const port = app.port;
    await app.stop();
    await page.waitForSelector(".conn[data-state=reconnecting]", { timeout: 5_000 });
    ok((await page.textContent(".conn"))?.includes("attempt"), "shows the attempt");

    app = await startApp({ port, env });
    await page.waitForSelector(".conn[data-state=connected]", { timeout: 20_000 });
    await waitForPriceChange(page, 3_000);
  } finally {
    await page.close();
    await app.stop();
  }
});

browserTest(
  "[e2e] sign in: the header shows the user and the socket is authenticated",
  async (browser) => {
    const app = await serveApp({ env: { DEMO_PASSWORD: "demo-password-for-tests" } });
    const page = await browser.newPage();
    try {
      await page.goto(`${app.origin}/`);
      equal(await page.textContent(".user-menu a"), "Sign in");
      await page.waitForSelector(".conn[data-state=connected]", { timeout: 5_000 });
      equal((await (await fetchWithin(`${app.origin}/api/websocket/status`)).json()).anonymous, 1);
      await page.click(".user-menu a");
      await page.fill("input[name=username]", "demo");
      await page.fill("input[name=password]", "demo-password-for-tests");
      await Promise.all([
        page.waitForURL(`${app.origin}/`),
        page.click("form button[type=submit]"),
      ]);
      equal(await page.textContent("[data-testid=user-name]"), "demo");
      await page.waitForSelector(".conn[data-state=connected]", { timeout: 5_000 });
      // The previous page's socket may take a moment to be closed on the server.
      let status = { connections: 0, anonymous: -1 };
      await waitFor(async () => {
        status = await (await fetchWithin(`${app.origin}/api/websocket/status`)).json();
        return status.connections === 1;
      }, {
        timeoutMs: 10_000,
        intervalMs: 50,
        what: "the signed-out page's socket to be closed on the server",
        detail: () => JSON.stringify(status),
      });
      equal(status.anonymous, 0, "the page's socket carries the session cookie");
      await waitForPriceChange(page, 3_000);
      await Promise.all([page.waitForURL(`${app.origin}/`), page.click(".user-menu button")]);
      equal(await page.textContent(".user-menu a"), "Sign in");
    } finally {
      await page.close();
      await app.stop();
    }
  },
);
