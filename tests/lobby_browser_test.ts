/**
 * The lobby in a real Chromium, as new people use it: two users who just signed up see
 * each other online and talk; a page opened later shows what the channel keeps; a sent
 * message is never shown as "sending" again after others talked; and a send into a full
 * offline queue keeps what was typed and says so in plain words.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { type InProcessApp, serveApp } from "./_app.ts";
import { browserTest } from "./_browser.ts";
import { fetchWithin } from "./_deadline.ts";
import { openSocket, type TestSocket } from "./_ws.ts";

const WAIT = { timeout: 15_000 };
const PASSWORD = "violet-harbor-lantern";

/** A fresh browser context signed up as `username` through the form, on `/`. */
async function signUp(
  browser: Browser,
  app: InProcessApp,
  username: string,
): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
  await page.goto(`${app.origin}/signup`);
  await page.fill("input[name=username]", username);
  await page.fill("input[name=password]", PASSWORD);
  await Promise.all([
    page.waitForURL(`${app.origin}/`, WAIT),
    page.click("form button[type=submit]"),
  ]);
  equal(await page.textContent("[data-testid=user-name]"), username);
  await page.waitForSelector(".conn[data-state=connected]", WAIT);
  return { context, page, problems };
}

/** A WebSocket for `username` with a token from `POST /api/token`, subscribed to the lobby. */
async function lobbySocket(app: InProcessApp, username: string): Promise<TestSocket> {
  const res = await fetchWithin(`${app.origin}/api/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  equal(res.status, 200, `a token for ${username}`);
  const { token } = await res.json();
  const socket = await openSocket(`${app.origin.replace("http", "ws")}/api/ws`, {
    headers: { authorization: `Bearer ${token}` },
  });
  await socket.take((f) => f.type === "connected");
  socket.send({ type: "subscribe", id: "s", channel: "presence:lobby" });
  await socket.take((f) => f.type === "subscribed");
  return socket;
}

/** Publishes lobby messages `texts` as the socket's user, each acknowledged. */
async function say(socket: TestSocket, name: string, texts: string[]): Promise<void> {
  for (const [i, text] of texts.entries()) {
    const id = `${name}-${i}-${crypto.randomUUID().slice(0, 8)}`;
    socket.send({
      type: "publish",
      id,
      channel: "presence:lobby",
      // A claimed name inside the data: the lobby must show the server's fromName instead.
      data: { text, name: "alice (spoofed)", nonce: id },
    });
    await socket.take((f) => (f.type === "ack" || f.type === "error") && f.id === id);
  }
}

function messageTexts(page: Page): Promise<string[]> {
  return page.$$eval(
    "[data-testid=lobby-messages] li[data-offset] .lobby-text",
    (els) => els.map((e) => e.textContent ?? ""),
  );
}

function pendingStates(page: Page): Promise<string[]> {
  return page.$$eval(
    "[data-testid=lobby-messages] li[data-state]",
    (els) => els.map((e) => e.getAttribute("data-state") ?? ""),
  );
}

browserTest(
  "[lobby] two new users: online list, messages both ways, history on open",
  async (browser) => {
    await using app = await serveApp();
    const ada = await signUp(browser, app, "ada");
    const bob = await signUp(browser, app, "bob");
    try {
      // Both see both online.
      for (const { page } of [ada, bob]) {
        await page.waitForFunction(
          () => {
            const names = [...document.querySelectorAll("[data-testid=lobby-members] li")]
              .map((e) => e.textContent).sort().join(",");
            return names === "ada,bob";
          },
          undefined,
          WAIT,
        );
        match((await page.textContent("[data-testid=lobby-online]")) ?? "", /2 online/);
      }
      await ada.page.fill(".lobby-form input", "hello from ada");
      await ada.page.press(".lobby-form input", "Enter");
      await bob.page.waitForFunction(
        () =>
          document.querySelector("[data-testid=lobby-messages]")?.textContent?.includes(
            "hello from ada",
          ),
        undefined,
        WAIT,
      );
      await bob.page.fill(
        ".lobby-form input",
        "hi ada, a very long wordwithoutanyspaces".padEnd(300, "x"),
      );
      await bob.page.click(".lobby-form button[type=submit]");
      await ada.page.waitForFunction(
        () =>
          document.querySelector("[data-testid=lobby-messages]")?.textContent?.includes("hi ada"),
        undefined,
        WAIT,
      );
      // A long word wraps inside the list instead of widening the page.
      const overflow = await ada.page.$eval(
        "[data-testid=lobby-messages]",
        (el) => el.scrollWidth - el.clientWidth,
      );
      equal(overflow, 0, "no horizontal overflow in the message list");
      // Each message has a time.
      ok((await ada.page.$$("[data-testid=lobby-messages] li[data-offset] time")).length >= 2);
      await bob.context.close();
      await ada.page.waitForFunction(
        () =>
          document.querySelector("[data-testid=lobby-online]")?.textContent?.includes("1 online"),
        undefined,
        WAIT,
      );

      // Opened later: the page shows what the channel keeps, not an empty lobby.
      await ada.page.reload();
      await ada.page.waitForFunction(
        () =>
          document.querySelectorAll("[data-testid=lobby-messages] li[data-offset]").length === 2,
        undefined,
        WAIT,
      );
      const texts = await messageTexts(ada.page);
      equal(texts[0], "hello from ada");
      ok(texts[1].startsWith("hi ada"));
      deepEqual(ada.problems, [], "the console stays clean");
    } finally {
      await ada.context.close();
      await bob.context.close().catch(() => {});
    }
  },
);

browserTest("[lobby] an own message stays delivered while 52 others arrive", async (browser) => {
  await using app = await serveApp();
  const ada = await signUp(browser, app, "ada");
  const { context: bobContext } = await signUp(browser, app, "bob");
  await bobContext.close();
  const bob = await lobbySocket(app, "bob");
  try {
    await ada.page.fill(".lobby-form input", "mine");
    await ada.page.press(".lobby-form input", "Enter");
    await ada.page.waitForSelector("[data-testid=lobby-messages] li[data-offset].own", WAIT);
    const others = Array.from({ length: 52 }, (_, i) => `other ${i + 1}`);
    await say(bob, "bob", others);
    await ada.page.waitForFunction(
      () =>
        [...document.querySelectorAll("[data-testid=lobby-messages] li[data-offset] .lobby-text")]
          .at(-1)?.textContent === "other 52",
      undefined,
      WAIT,
    );
    deepEqual(await pendingStates(ada.page), [], "nothing turns back into sending…");
    const texts = await messageTexts(ada.page);
    equal(texts.length, 50, "the newest 50 are kept");
    deepEqual(texts, others.slice(2));
    const senders = await ada.page.$$eval(
      "[data-testid=lobby-messages] li[data-offset] strong",
      (els) => [...new Set(els.map((e) => e.textContent))],
    );
    deepEqual(senders, ["bob"], "the sender is the signed-in user the server attached");

    // Data that is not a lobby message (null, wrong types) is skipped, never thrown on.
    for (const [i, data] of [null, { nonce: 5 }, [1, 2], "text"].entries()) {
      bob.send({ type: "publish", id: `bad-${i}`, channel: "presence:lobby", data });
      await bob.take((f) => (f.type === "ack" || f.type === "error") && f.id === `bad-${i}`);
    }
    await say(bob, "bob", ["after the garbage"]);
    await ada.page.waitForFunction(
      () =>
        [...document.querySelectorAll("[data-testid=lobby-messages] li[data-offset] .lobby-text")]
          .at(-1)?.textContent === "after the garbage",
      undefined,
      WAIT,
    );
    await ada.page.reload();
    await ada.page.waitForFunction(
      () =>
        [...document.querySelectorAll("[data-testid=lobby-messages] li[data-offset] .lobby-text")]
          .at(-1)?.textContent === "after the garbage",
      undefined,
      WAIT,
    );
    deepEqual(ada.problems, []);
  } finally {
    bob.close();
    await ada.context.close();
  }
});

browserTest(
  "[lobby] offline: a full queue keeps the text in the box; the 100 queued are delivered once",
  async (browser) => {
    await using app = await serveApp();
    const ada = await signUp(browser, app, "ada");
    const page = ada.page;
    try {
      await ada.context.setOffline(true);
      await page.waitForSelector(".conn:is([data-state=offline],[data-state=reconnecting])", WAIT);
      for (let i = 1; i <= 101; i++) {
        await page.fill(".lobby-form input", `offline ${i}`);
        await page.press(".lobby-form input", "Enter");
      }
      // 100 wait in the queue; the 101st could not join it: its text is back in the box.
      await page.waitForSelector("[data-testid=lobby-notice]", WAIT);
      equal((await pendingStates(page)).filter((s) => s === "sending").length, 100);
      equal(await page.inputValue(".lobby-form input"), "offline 101");
      // Sending it again while still offline: refused again, still kept.
      await page.click("[data-testid=lobby-notice] button");
      await page.press(".lobby-form input", "Enter");
      await page.waitForSelector("[data-testid=lobby-notice]", WAIT);
      equal(await page.inputValue(".lobby-form input"), "offline 101");
      const notice = (await page.textContent("[data-testid=lobby-notice]")) ?? "";
      match(notice, /still in the box/);
      ok(!/publish|presence:lobby/.test(notice), `plain words, got: ${notice}`);
      await page.click("[data-testid=lobby-notice] button");
      equal(await page.$("[data-testid=lobby-notice]"), null, "the notice can be dismissed");

      await ada.context.setOffline(false);
      await page.waitForFunction(
        () => document.querySelectorAll("[data-testid=lobby-messages] li[data-state]").length === 0,
        undefined,
        { timeout: 30_000 },
      );
      const texts = await messageTexts(page);
      deepEqual(
        texts,
        Array.from({ length: 50 }, (_, i) => `offline ${i + 51}`),
        `shown: ${texts.length} from ${texts[0]} to ${texts.at(-1)}: ${JSON.stringify(texts)}`,
      );
      // The kept text goes out too, once, now that there is room.
      await page.press(".lobby-form input", "Enter");
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll("[data-testid=lobby-messages] li[data-offset] .lobby-text")]
            .at(-1)?.textContent === "offline 101",
        undefined,
        WAIT,
      );
      const history = await app.services.bus.history("presence:lobby", { limit: 100 });
      const sent = history.messages.map((m) => (m.data as { text: string }).text);
      deepEqual(
        sent,
        Array.from({ length: 50 }, (_, i) => `offline ${i + 52}`),
        "each once, in order",
      );
      equal(history.position.offset, 101, "101 messages were committed in all");
    } finally {
      await ada.context.close();
    }
  },
);
