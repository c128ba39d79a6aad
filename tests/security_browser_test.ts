/**
 * The security headers in a real Chromium: every page loads under its Content Security
 * Policy with no violation and no console error, its islands hydrate (the connection
 * indicator reaches `connected`, which needs the nonce'd boot script and a WebSocket
 * allowed by `connect-src 'self'`), and no other site can frame it. docs/SECURITY.md.
 */
import { equal, ok } from "node:assert/strict";
import type { Page } from "playwright-core";
import { serveApp } from "./_app.ts";
import { DEMO_PASSWORD } from "./_auth.ts";
import { browserTest } from "./_browser.ts";
import { deadline } from "./_deadline.ts";

/** Records CSP violations (from the page itself) and console errors of `page`. */
async function watch(page: Page): Promise<{ violations: string[]; errors: string[] }> {
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() !== "error" && msg.type() !== "warning") return;
    const text = `${msg.text()} (${msg.location().url})`;
    // Chromium reports the 404 page's own status; that one is expected.
    if (/status of 404 .*\/no-such-page\)$/.test(text)) return;
    errors.push(text);
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  const violations: string[] = [];
  await page.exposeFunction("__reportViolation", (text: string) => violations.push(text));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      const report = (globalThis as unknown as { __reportViolation(t: string): void })
        .__reportViolation;
      report(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile})`);
    });
  });
  return { violations, errors };
}

browserTest("[security] every page loads under its CSP; islands hydrate", async (browser) => {
  await using app = await serveApp();
  const context = await browser.newContext();
  const page = await context.newPage();
  const seen = await watch(page);
  try {
    const visit = async (path: string, status: number) => {
      const res = await page.goto(`${app.origin}${path}`);
      equal(res?.status(), status, path);
      ok((await res!.headerValue("content-security-policy"))?.includes("'nonce-"), path);
      await page.waitForSelector(".conn[data-state=connected]", { timeout: 10_000 });
    };
    await visit("/", 200);
    await visit("/login", 200);
    await visit("/signup", 200);
    await visit("/logout", 200);
    await visit("/no-such-page", 404);
    // Sign in through the form: form-action 'self' and the redirect after it.
    await visit("/login?next=%2Faccount", 200);
    await page.fill("input[name=username]", "demo");
    await page.fill("input[name=password]", DEMO_PASSWORD);
    await Promise.all([
      page.waitForURL(`${app.origin}/account`),
      page.click("form.login-form button[type=submit]"),
    ]);
    await page.waitForSelector(".conn[data-state=connected]", { timeout: 10_000 });
    equal(await page.textContent("[data-testid=user-name]"), "demo");
    await visit("/", 200); // the lobby island, signed in
    await page.waitForSelector(".lobby", { timeout: 10_000 });
    await visit("/account", 200);
    await visit("/logout", 200);
    equal(seen.violations.length, 0, `CSP violations: ${seen.violations.join(" | ")}`);
    equal(seen.errors.length, 0, `console errors and warnings: ${seen.errors.join(" | ")}`);
  } finally {
    await context.close();
  }
});

/**
 * Serves HTML pages (path → markup) on another port of 127.0.0.1: another origin, in the
 * same (loopback) address space, so only the app's own headers can stop the framing.
 */
function serveEmbedder(pages: Record<string, string>): AsyncDisposable & { origin: string } {
  const ac = new AbortController();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", signal: ac.signal, onListen() {} },
    (req) =>
      new Response(pages[new URL(req.url).pathname] ?? "", {
        headers: { "content-type": "text/html; charset=utf-8" },
      }),
  );
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    async [Symbol.asyncDispose]() {
      ac.abort();
      await deadline(server.finished, 10_000, "the embedding page's server to stop");
    },
  };
}

browserTest("[security] no other site can frame the pages", async (browser) => {
  await using app = await serveApp();
  // A control: a page of the embedder's own origin, without the headers, is framed.
  await using embedder = serveEmbedder({
    "/": `<!DOCTYPE html><title>embedder</title>` +
      `<iframe id="control" src="/control"></iframe>` +
      `<iframe id="login" src="${app.origin}/login"></iframe>` +
      `<iframe id="home" src="${app.origin}/"></iframe>`,
    "/control": "<!DOCTYPE html><title>control</title><form><p>framed</p></form>",
  });
  const context = await browser.newContext();
  const page = await context.newPage();
  const messages: string[] = [];
  page.on("console", (msg) => messages.push(msg.text()));
  try {
    await page.goto(`${embedder.origin}/`, { waitUntil: "load" });
    const frameOf = async (id: string) => {
      const frame = await (await page.waitForSelector(`#${id}`)).contentFrame();
      if (!frame) throw new Error(`#${id} has no frame`);
      return frame;
    };
    const control = await frameOf("control");
    equal(control.url(), `${embedder.origin}/control`, "the control page is framed");
    equal(await control.locator("form").count(), 1, "and its content is there");
    for (const id of ["login", "home"]) {
      const frame = await frameOf(id);
      equal(frame.url(), "chrome-error://chromewebdata/", `#${id}: Chromium refused to frame it`);
      equal(await frame.locator("form, .conn").count(), 0, `#${id}: nothing of the app inside`);
    }
    ok(
      messages.some((m) => /frame-ancestors 'none'/.test(m)),
      `Chromium names the directive: ${messages.join(" | ")}`,
    );
  } finally {
    await context.close();
  }
});
