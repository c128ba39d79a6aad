/**
 * The wallet page in a real Chromium against a real anvil (automine off, so every state is
 * reached on purpose): a new user signs up, is told why an address is refused (checked in
 * the page, and the server's 400 shown under its field), watches an address, sees a
 * transfer appear pending and its confirmations count up to confirmed without a reload
 * (blocks mined by the test), a reverting transaction shown failed with its reason, a
 * replaced one linking to its replacement, a reorganization told (banner, item reorged),
 * copies a hash, and stops watching. The layout holds at 360 and 390 px, axe-core finds no
 * serious violation in either theme, and every page runs under its CSP with a clean
 * console.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import axe from "axe-core";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { startAnvil } from "../lib/wallet/anvil.ts";
import { DEV_ACCOUNTS, type DevChain, devChain } from "../lib/wallet/dev_chain.ts";
import type { Hex } from "../lib/wallet/rpc_schemas.ts";
import { type InProcessApp, serveApp } from "./_app.ts";
import { browserTest } from "./_browser.ts";
import { chainEnv, waitHead } from "./_wallet.ts";

const WAIT = { timeout: 15_000 };
const PASSWORD = "violet-harbor-lantern";
const ETH = 10n ** 18n;
const GWEI = 10n ** 9n;
const [A0, A1, , , , , W] = DEV_ACCOUNTS;

interface Watched {
  /** Console errors and warnings, page errors, CSP violations. */
  problems: string[];
}

/** Console lines the browser writes for answers the test provokes on purpose. */
const EXPECTED = /status of 400 .*\/api\/wallet\/watch\)$/;

/** Records console errors and warnings, page errors and CSP violations of `page`. */
async function watchPage(page: Page): Promise<Watched> {
  const into: Watched = { problems: [] };
  page.on("console", (m) => {
    if (m.type() !== "error" && m.type() !== "warning") return;
    const line = `${m.type()}: ${m.text()} (${m.location().url})`;
    if (!EXPECTED.test(line)) into.problems.push(line);
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
  return into;
}

/** Signs up `username` through the form, coming back to `/wallet`. */
async function signUp(page: Page, app: InProcessApp, username: string): Promise<void> {
  await page.goto(`${app.origin}/signup?next=%2Fwallet`);
  await page.fill("input[name=username]", username);
  await page.fill("input[name=password]", PASSWORD);
  await Promise.all([
    page.waitForURL(`${app.origin}/wallet`, WAIT),
    page.click("form button[type=submit]"),
  ]);
  await page.waitForSelector(".conn[data-state=connected]", WAIT);
}

/** The row of `hash`'s transaction item (`{hash}:tx`). */
function row(hash: string): string {
  return `[data-testid=activity-item][data-id="${hash}:tx"]`;
}

/** Waits until the row of `hash` shows `status` (and `confirmations`, when given). */
async function waitStatus(
  page: Page,
  hash: string,
  status: string,
  confirmations?: number,
): Promise<void> {
  const count = confirmations === undefined ? "" : `[data-confirmations="${confirmations}"]`;
  await page.waitForSelector(
    `${row(hash)} [data-testid=status][data-status=${status}]${count}`,
    WAIT,
  );
}

function chipText(page: Page, hash: string): Promise<string> {
  return page.$eval(`${row(hash)} [data-testid=status]`, (el) => el.textContent ?? "");
}

/** Adds `address` with `label` through the form; resolves when the page shows its feed. */
async function addAddress(page: Page, address: string, label: string): Promise<void> {
  await page.fill("#watch-address", address);
  await page.fill("#watch-label", label);
  await page.click("[data-testid=watch-form] button[type=submit]");
  await page.waitForSelector(
    `[data-testid=wallet-view][data-address="${W}"] [data-testid=feed-state][data-state=live]`,
    WAIT,
  );
}

browserTest(
  "[wallet] /wallet: watch an address; a transfer pending → n / 3 → confirmed live; failed, replaced, reorged",
  async (browser) => {
    await using anvil = await startAnvil();
    const chain: DevChain = devChain(anvil.url);
    await using app = await serveApp({ env: chainEnv(anvil.url) });
    const context = await browser.newContext({
      viewport: { width: 1440, height: 900 },
      permissions: ["clipboard-read", "clipboard-write"],
    });
    try {
      const page = await context.newPage();
      const seen = await watchPage(page);

      // Signed out: the chain's state, and the way in.
      await page.goto(`${app.origin}/wallet`);
      await page.waitForSelector("[data-testid=chain-bar][data-rpc=connected]", WAIT);
      equal(
        await page.getAttribute("[data-testid=wallet-signin]", "href"),
        "/login?next=%2Fwallet",
      );
      equal(await page.textContent("header.top nav a[href='/wallet']"), "Wallet");

      await signUp(page, app, "wally");
      await page.waitForSelector("[data-testid=watch-empty]", WAIT);
      const posts: string[] = [];
      page.on("request", (r) => {
        if (r.method() === "POST" && r.url().endsWith("/api/wallet/watch")) posts.push(r.url());
      });

      // Checked in the page: nothing is sent.
      const submit = "[data-testid=watch-form] button[type=submit]";
      await page.fill("#watch-address", "0x1234");
      await page.click(submit);
      match(
        await page.textContent("[data-testid=address-error]") ?? "",
        /has 4 hex digits, expected 40/,
      );
      equal(await page.getAttribute("#watch-address", "aria-invalid"), "true");
      // W with one letter's case flipped: mixed case, wrong checksum.
      const flipped = W.replace("E", "e");
      ok(flipped !== W);
      await page.fill("#watch-address", flipped);
      await page.click(submit);
      match(await page.textContent("[data-testid=address-error]") ?? "", /Wrong checksum/);
      deepEqual(posts, [], "an address refused in the page is not sent");

      // Refused by the server: its 400 message under the field it names.
      await page.fill("#watch-address", W.toLowerCase());
      await page.fill("#watch-label", "main\u200b");
      await page.click(submit);
      await page.waitForSelector("[data-testid=label-error]", WAIT);
      equal(
        await page.textContent("[data-testid=label-error]"),
        "The label has control, zero-width or text-direction characters",
      );
      equal(posts.length, 1);

      // Watched (typed in lower case, kept checksummed).
      await addAddress(page, W.toLowerCase(), "main");
      equal(await page.textContent("[data-testid=address]"), W);
      equal(
        await page.textContent(`.watch-entry[data-address="${W}"] .watch-name`),
        "main",
      );
      match(page.url(), new RegExp(`/wallet\\?address=${W}$`));
      await page.waitForSelector("[data-testid=activity-empty]", WAIT);
      // Anything below that reloads the page loses this mark.
      await page.evaluate(() => (globalThis as unknown as { __kept: boolean }).__kept = true);

      // A transfer: pending (mempool), then 1, 2 / 3 confirmations, then confirmed.
      const hash = await chain.send({ from: A0, to: W, value: 3n * ETH / 2n });
      await waitStatus(page, hash, "pending");
      equal(await chipText(page, hash), "pending");
      equal(await page.textContent(`${row(hash)} [data-testid=amount]`), "1.5 ETH");
      match(await page.textContent(`${row(hash)} .dir`) ?? "", /^IN$/);
      await chain.mine();
      await waitStatus(page, hash, "included", 1);
      equal(await chipText(page, hash), "1 / 3 confirmations");
      const block = Number(
        (await page.textContent(`${row(hash)} .witem-block`))?.replace(/\D/g, ""),
      );
      ok(block > 0, "the row names its block");
      await waitHead(app, block);
      await chain.mine();
      await waitStatus(page, hash, "included", 2);
      equal(await chipText(page, hash), "2 / 3 confirmations");
      await chain.mine();
      await waitStatus(page, hash, "confirmed");
      equal(await chipText(page, hash), "confirmed");
      await page.waitForFunction(
        () =>
          document.querySelector("[data-asset=native] [data-testid=balance-amount]")
            ?.textContent === "10,001.5 ETH",
        undefined,
        WAIT,
      );
      await page.waitForSelector(`[data-testid=chain-head][data-head="${block + 2}"]`, WAIT);

      // Its hash can be copied.
      await page.click(`${row(hash)} .witem-txhash button.copy`);
      await page.waitForSelector(`${row(hash)} .witem-txhash .copy[data-state=copied]`, WAIT);
      equal(await page.textContent(`${row(hash)} .witem-txhash .copy-note`), "Copied");
      equal(await page.evaluate(() => navigator.clipboard.readText()), hash);

      // A reverting transaction: failed, with the reason the node gives.
      const token = await chain.deployErc20(A0, {
        name: "Demo Token",
        symbol: "DEMO",
        decimals: 6,
        supply: 10n ** 15n,
      }, true);
      const failing = await chain.send({
        from: W,
        to: token,
        data: chain.erc20Transfer(A0, 5_000_000n),
        gas: 100_000n,
      });
      await chain.mine();
      await waitStatus(page, failing, "failed");
      equal(await chipText(page, failing), "failed");
      equal(
        await page.textContent(`${row(failing)} [data-testid=revert-reason]`),
        "ERC20: insufficient balance",
      );
      match(await page.textContent(`${row(failing)} .dir`) ?? "", /^OUT$/);

      // Same nonce, higher fee: the first is replaced and links to the second.
      const nonce = await chain.rpc.nonce(A1.toLowerCase() as Hex, "pending");
      const slow = await chain.send({
        from: A1,
        to: W,
        value: ETH,
        nonce,
        maxFeePerGas: 3n * GWEI,
        maxPriorityFeePerGas: GWEI,
      });
      await waitStatus(page, slow, "pending");
      const fast = await chain.send({
        from: A1,
        to: W,
        value: ETH,
        nonce,
        maxFeePerGas: 6n * GWEI,
        maxPriorityFeePerGas: 2n * GWEI,
      });
      await chain.mine();
      await waitStatus(page, slow, "replaced");
      await waitStatus(page, fast, "included", 1);
      equal(await chipText(page, slow), "replaced · sped up");
      const link = `${row(slow)} [data-testid=replaced-by]`;
      equal(await page.getAttribute(link, "href"), `#item-${fast}:tx`);
      await page.click(link);
      await page.waitForFunction(
        (id) => document.querySelector(":target")?.getAttribute("data-id") === id,
        `${fast}:tx`,
        WAIT,
      );

      // A reorganization removing the block of an incoming transfer.
      const moved = await chain.send({ from: A0, to: W, value: ETH / 2n });
      await chain.mine();
      await waitStatus(page, moved, "included", 1);
      await chain.reorg(2);
      await waitStatus(page, moved, "reorged");
      await page.waitForSelector("[data-testid=reorg-banner]", WAIT);
      match(
        await page.textContent("[data-testid=reorg-banner]") ?? "",
        /Chain reorganization: blocks [\d,]+–[\d,]+ were replaced \(depth 2\)/,
      );
      await page.waitForSelector("[data-testid=wallet-reorg]", WAIT);
      equal(await chipText(page, moved), "reorged");

      // None of this reloaded the page.
      equal(
        await page.evaluate(() => (globalThis as unknown as { __kept?: boolean }).__kept),
        true,
        "no reload",
      );

      // Opened from a notification's link: the page renders the feed and marks that row.
      await page.goto(`${app.origin}/wallet?address=${W}&tx=${failing}`);
      await page.waitForSelector(`${row(failing)}[data-highlight=true]`, WAIT);
      equal(await page.textContent(`${row(failing)} .witem-kind`), "call");
      await page.waitForSelector("[data-testid=feed-state][data-state=live]", WAIT);

      // Stop watching (asked twice).
      await page.click(`.watch-entry[data-address="${W}"] [data-testid=remove]`);
      const removed = page.waitForResponse(
        (r) => r.request().method() === "DELETE" && r.url().includes("/api/wallet/watch/"),
        WAIT,
      );
      await page.click(`.watch-entry[data-address="${W}"] [data-testid=confirm-remove]`);
      equal((await removed).status(), 204);
      await page.waitForSelector("[data-testid=watch-empty]", WAIT);
      match(page.url(), /\/wallet$/);
      deepEqual(seen.problems, [], "no console error, page error or CSP violation");
    } finally {
      await context.close();
    }
  },
);

/** Checks that nothing in `main` reaches past the right edge and the page does not scroll sideways. */
async function fits(page: Page, what: string): Promise<void> {
  const fit = await page.evaluate(() => {
    const inner = globalThis.innerWidth;
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
  ok(fit.scroll <= fit.inner, `${what}: scrollWidth ${fit.scroll} > ${fit.inner}`);
  deepEqual(fit.over, [], `${what}: nothing reaches past the right edge`);
}

async function axeViolations(page: Page): Promise<string[]> {
  if (!await page.evaluate(() => "axe" in globalThis)) {
    await page.addScriptTag({ content: axe.source });
  }
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

/** A context signed up as `username` (in `app`), its page on /wallet. */
async function userContext(
  browser: Browser,
  app: InProcessApp,
  username: string,
  options: { width: number; colorScheme?: "dark" | "light"; bypassCSP?: boolean },
): Promise<{ context: BrowserContext; page: Page; seen: Watched }> {
  const phone = options.width < 600;
  const context = await browser.newContext({
    viewport: { width: options.width, height: phone ? 780 : 900 },
    colorScheme: options.colorScheme ?? "dark",
    bypassCSP: options.bypassCSP ?? false,
    ...(phone ? { isMobile: true, hasTouch: true } : {}),
  });
  const page = await context.newPage();
  const seen = await watchPage(page);
  await signUp(page, app, username);
  return { context, page, seen };
}

browserTest(
  "[wallet] /wallet with activity: no sideways scroll at 360 / 390 px; axe-core clean in both themes",
  async (browser) => {
    await using anvil = await startAnvil();
    const chain = devChain(anvil.url);
    await using app = await serveApp({
      env: { ...chainEnv(anvil.url), SIGNUPS_PER_HOUR_PER_IP: "50" },
    });
    // Activity of every kind of row: confirmed, counting, failed, pending.
    const { context: first, page: setup } = await userContext(browser, app, "lay0", {
      width: 1440,
    });
    let hashes: Hex[];
    try {
      await addAddress(setup, W, "A long label for a wallet, forty chars!");
      const token = await chain.deployErc20(A0, {
        name: "Demo Token",
        symbol: "DEMO",
        decimals: 6,
        supply: 10n ** 15n,
      }, true);
      const done = await chain.send({ from: A0, to: W, value: 123_456_789_012_345_678n });
      await chain.send({ from: A0, to: token, data: chain.erc20Transfer(W, 2_500_000n) });
      await chain.mine(3);
      const failing = await chain.send({
        from: W,
        to: token,
        data: chain.erc20Transfer(A0, 5_000_000_000n),
        gas: 100_000n,
      });
      await chain.mine();
      const pending = await chain.send({ from: W, to: A1, value: ETH / 3n });
      hashes = [done, failing, pending];
      await waitStatus(setup, done, "confirmed");
      await waitStatus(setup, failing, "failed");
      await waitStatus(setup, pending, "pending");
    } finally {
      await first.close();
    }

    // One phone, at both widths.
    const phone = await userContext(browser, app, "lay1", { width: 360 });
    try {
      await addAddress(phone.page, W, "A long label for a wallet, forty chars!");
      for (const width of [360, 390]) {
        await phone.page.setViewportSize({ width, height: 780 });
        for (const h of hashes) await phone.page.waitForSelector(row(h), WAIT);
        await fits(phone.page, `/wallet at ${width}px`);
      }
      deepEqual(phone.seen.problems, [], "phone: clean console");
    } finally {
      await phone.context.close();
    }

    // Only here the CSP is bypassed: axe is injected as an inline script.
    const { context, page } = await userContext(browser, app, "lay2", {
      width: 1440,
      bypassCSP: true,
    });
    try {
      await addAddress(page, W, "main");
      for (const h of hashes) await page.waitForSelector(row(h), WAIT);
      for (const colorScheme of ["dark", "light"] as const) {
        await page.emulateMedia({ colorScheme });
        const violations = await axeViolations(page);
        deepEqual(violations, [], `/wallet (${colorScheme}): ${violations.join(" | ")}`);
      }
      // The signed-out page too.
      await context.clearCookies();
      await page.goto(`${app.origin}/wallet`);
      await page.waitForSelector("[data-testid=wallet-signin]", WAIT);
      for (const colorScheme of ["dark", "light"] as const) {
        await page.emulateMedia({ colorScheme });
        const signedOut = await axeViolations(page);
        deepEqual(signedOut, [], `/wallet signed out (${colorScheme}): ${signedOut.join(" | ")}`);
      }
    } finally {
      await context.close();
    }
  },
);
