/**
 * A new person in a real Chromium, without help from scripts: signs up through the
 * form, is signed in, signs out through the /logout page and signs in again.
 */
import { equal } from "node:assert/strict";
import { serveApp } from "./_app.ts";
import { browserTest } from "./_browser.ts";

const WAIT = { timeout: 15_000 };

browserTest("[e2e] sign up → signed in → sign out via /logout → sign in again", async (browser) => {
  await using app = await serveApp();
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() !== "error" && m.type() !== "warning") return;
    // The refused sign-up below is answered 400 on purpose; Chromium logs every 4xx page.
    const expected = m.location().url.endsWith("/signup") && / status of 400 /.test(m.text());
    if (!expected) problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
  try {
    await page.goto(`${app.origin}/`);
    await Promise.all([
      page.waitForURL(`${app.origin}/signup`, WAIT),
      page.click('.user-menu a[href^="/signup"]'),
    ]);
    equal(await page.title(), "Create an account · Realtime");

    // A weak password first: the form says why and keeps the name.
    await page.fill("input[name=username]", "Newbie");
    await page.fill("input[name=password]", "password1234");
    await Promise.all([page.waitForLoadState("load"), page.click("form button[type=submit]")]);
    equal(
      await page.textContent(".form-error"),
      "This password is on a list of commonly used passwords; choose another",
    );
    equal(await page.inputValue("input[name=username]"), "Newbie");

    await page.fill("input[name=password]", "violet-harbor-lantern");
    await Promise.all([
      page.waitForURL(`${app.origin}/`, WAIT),
      page.click("form button[type=submit]"),
    ]);
    equal(await page.textContent("[data-testid=user-name]"), "newbie");

    await page.goto(`${app.origin}/logout`);
    equal(await page.textContent("h1"), "Sign out of newbie?");
    await Promise.all([
      page.waitForURL(`${app.origin}/`, WAIT),
      page.click("main form button[type=submit]"),
    ]);
    equal(await page.textContent(".user-menu a"), "Sign in");
    equal(await page.$("[data-testid=user-name]"), null);

    await Promise.all([page.waitForURL(/\/login$/, WAIT), page.click(".user-menu a")]);
    await page.fill("input[name=username]", "newbie");
    await page.fill("input[name=password]", "violet-harbor-lantern");
    await Promise.all([
      page.waitForURL(`${app.origin}/`, WAIT),
      page.click("form button[type=submit]"),
    ]);
    equal(await page.textContent("[data-testid=user-name]"), "newbie");
    equal(problems.length, 0, `the console stays clean:\n${problems.join("\n")}`);
  } finally {
    await page.close();
  }
});
