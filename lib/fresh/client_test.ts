import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { browserTest } from "../../tests/_browser.ts";
import { createHandler } from "./server.ts";
import manifest from "./testdata/fresh.gen.ts";
import { BREAKOUT } from "./testdata/routes/islands.tsx";
import { deadline, fetchWithin } from "../../tests/_deadline.ts";

function text(page: Page, selector: string): Promise<string | null> {
  return page.evaluate((s) => document.querySelector(s)?.textContent ?? null, selector);
}

async function waitForText(page: Page, selector: string, expected: string): Promise<void> {
  try {
    await page.waitForFunction(
      ([s, e]) => document.querySelector(s)?.textContent === e,
      [selector, expected],
      { timeout: 5000 },
    );
  } catch {
    assert.equal(await text(page, selector), expected, selector);
  }
}

browserTest(
  "[client] islands hydrate, share module state and revive signal props",
  async (browser) => {
    const handler = await createHandler(manifest);
    const controller = new AbortController();
    const server = Deno.serve({ port: 0, signal: controller.signal, onListen() {} }, handler);
    try {
      const page = await browser.newPage();
      page.setDefaultTimeout(5000);
      const problems: string[] = [];
      page.on("pageerror", (error) => problems.push(error.message));
      page.on("console", (msg) => msg.type() === "error" && problems.push(msg.text()));
      page.on(
        "response",
        (res) => res.status() >= 400 && problems.push(`${res.status()} ${res.url()}`),
      );
      page.on("dialog", (dialog) => {
        problems.push(`dialog: ${dialog.message()}`);
        dialog.dismiss();
      });
      const origin = `http://localhost:${server.addr.port}`;
      const html = await (await fetchWithin(`${origin}/islands`)).text();
      const buildId = /data-build-id="([^"]+)"/.exec(html)![1];

      await page.goto(`${origin}/islands`);
      await waitForText(page, ".named .seen", "hydrated");

      await page.click(".counter button");
      await waitForText(page, ".counter .count", "4");
      assert.equal(await page.locator(".counter").count(), 1, "hydration reused the markup");

      await page.click(".sub-counter button");
      await waitForText(page, ".sub-count", "sub 1");

      await page.click(".shared-inc");
      await page.click(".shared-inc");
      await waitForText(page, ".shared-view", "2");
      assert.equal((await text(page, ".shared-inc"))?.trim(), "inc 2");

      assert.equal(await text(page, "#first .text"), BREAKOUT);
      assert.equal(await text(page, "#first .missing"), "true");
      await page.click("#first .sig-inc");
      await waitForText(page, "#first .sig", "6");
      await waitForText(page, "#second .sig", "6");
      await page.click("#second .sig-inc");
      await waitForText(page, "#first .sig", "7");

      await page.click(".named button");
      await waitForText(page, ".named .seen", `true /img/logo.svg?__frsh_c=${buildId}`);

      await page.goto(`${origin}/nested`);
      await page.waitForLoadState("networkidle");
      await page.click(".inner");
      await waitForText(page, ".inner", "nested 1");

      assert.deepEqual(problems, []);
    } finally {
      controller.abort();
      await deadline(server.finished, 10_000, "the test server to finish");
    }
  },
);
