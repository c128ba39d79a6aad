/**
 * The client SDK in a real Chromium: going offline and online again (indicator states,
 * messages missed meanwhile recovered), and a message sent while offline delivered once
 * after the reconnect.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { DEMO_PASSWORD, demoToken } from "./_auth.ts";
import { browserTest } from "./_browser.ts";
import { serveApp } from "./_app.ts";
import { openSocket } from "./_ws.ts";

browserTest(
  "[e2e] offline and back: missed messages recovered, an offline send delivered once",
  async (browser) => {
    const dir = await Deno.makeTempDir();
    const app = await serveApp({ env: { DEMO_PASSWORD, KV_PATH: `${dir}/kv.sqlite` } });
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${app.origin}/login`);
      await page.fill("input[name=username]", "demo");
      await page.fill("input[name=password]", DEMO_PASSWORD);
      await Promise.all([
        page.waitForURL(`${app.origin}/`),
        page.click("form button[type=submit]"),
      ]);
      await page.waitForSelector(".conn[data-state=connected]", { timeout: 5_000 });
      await page.waitForSelector(".lobby-form input");

      // Another user of the lobby: a Deno program with a token.
      const other = await openSocket(`${app.origin.replace("http", "ws")}/api/ws`, {
        headers: { authorization: `Bearer ${await demoToken(app.origin)}` },
      });
      await other.next();
      other.send({ type: "subscribe", channel: "presence:lobby" });
      await other.take((f) => f.type === "subscribed");
      const say = async (text: string, id: string) => {
        other.send({
          type: "publish",
          id,
          channel: "presence:lobby",
          data: { text, name: "bot", nonce: id },
        });
        await other.take((f) => f.type === "ack" && f.id === id);
      };
      await say("before", "b1");
      await page.waitForFunction(() =>
        document.querySelector("[data-testid=lobby-messages]")?.textContent?.includes("before")
      );

      await context.setOffline(true);
      await page.waitForSelector(".conn:is([data-state=offline],[data-state=reconnecting])", {
        timeout: 45_000,
      });
      // Sent while offline: shown at once as sending, kept in the SDK's queue.
      await page.fill(".lobby-form input", "sent while offline");
      await page.click(".lobby-form button");
      await page.waitForSelector("[data-state=sending]");
      await say("missed 1", "m1");
      await say("missed 2", "m2");

      await context.setOffline(false);
      await page.waitForSelector(".conn[data-state=connected]", { timeout: 30_000 });
      await page.waitForFunction(
        () => {
          const text = document.querySelector("[data-testid=lobby-messages]")?.textContent ?? "";
          return text.includes("missed 2") && text.includes("sent while offline") &&
            !document.querySelector("[data-state=sending]");
        },
        undefined,
        { timeout: 15_000 },
      );
      const texts = await page.$$eval(
        "[data-testid=lobby-messages] li[data-offset] .lobby-text",
        (els) => els.map((e) => e.textContent ?? ""),
      );
      deepStrictEqual(texts.filter((t) => t === "before" || t.startsWith("missed")), [
        "before",
        "missed 1",
        "missed 2",
      ]);
      equal(texts.filter((t) => t.startsWith("sent while offline")).length, 1, "delivered once");
      // The other client saw the offline send exactly once too.
      const echoed = await other.take((f) =>
        f.type === "message" && (f.data as { text: string }).text === "sent while offline"
      );
      ok(echoed.offset);
      await other.close();
    } finally {
      await context.close();
      await app.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
