/**
 * Shared Chromium launcher for browser tests (playwright-core driving Debian's Chromium).
 *
 * Browser tests call {@linkcode browserTest}: where no Chromium is installed the test is
 * registered as ignored and one line says why, so it is never counted as passed.
 * `.ci/run` installs Chromium, so in CI these tests always run.
 */
import { type Browser, chromium } from "playwright-core";
import { deadline } from "./_deadline.ts";

/** Where Chromium lives; override with `CHROMIUM_PATH`. */
export const CHROMIUM_PATH = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

function chromiumInstalled(): boolean {
  try {
    return Deno.statSync(CHROMIUM_PATH).isFile;
  } catch {
    return false;
  }
}

/** True when a Chromium binary is present at {@linkcode CHROMIUM_PATH}. */
export const HAS_CHROMIUM: boolean = chromiumInstalled();

let warned = false;

/** Launches a headless Chromium with the flags this sandbox needs. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // A loaded machine starts Chromium slowly; past this, the launch fails and says so.
    timeout: 60_000,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/**
 * Registers a browser test. It is ignored (and says why, once) when Chromium is missing.
 * The browser is launched before `fn` and closed after it, whatever `fn` does. Every
 * playwright wait is bounded by its default timeout (30 s) unless a test sets another.
 */
export function browserTest(name: string, fn: (browser: Browser) => Promise<void>): void {
  if (!HAS_CHROMIUM && !warned) {
    warned = true;
    console.warn(
      `browser tests ignored: no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)`,
    );
  }
  Deno.test({
    name,
    ignore: !HAS_CHROMIUM,
    // playwright keeps internal timers and pipes across its own lifecycle.
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const browser = await launchBrowser();
      try {
        await fn(browser);
      } finally {
        await deadline(browser.close(), 30_000, "Chromium to close");
      }
    },
  });
}
