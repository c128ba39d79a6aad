/**
 * Head → browser latency of the wallet page: a block mined on anvil → the confirmation
 * count of a watched transfer changing in Chromium's DOM.
 *
 * Setup: a local anvil (mining on demand), the app in this process (as the tests run it:
 * `tests/_app.ts`, KV in memory) following it with `CHAIN_WS_URL` wake-ups (as the
 * embedded chain of `deno task start`; `--no-ws` polls only), a user watching one address,
 * one transfer to it included, and `CHAIN_CONFIRMATIONS` set above the number of blocks
 * so its count goes up by one with every block. The page `/wallet` is open in Chromium;
 * a MutationObserver on the transfer's row records `performance.timeOrigin +
 * performance.now()` whenever its `data-confirmations` changes. The bench mines one block
 * at a time (300–600 ms apart) and takes, for each, the time from `anvil_mine` returning
 * to the new count in the DOM (same machine, same clock), and on the way the time the
 * item's message reached the app's bus (head → bus, the rest is bus → gateway → socket →
 * page).
 *
 *   deno task bench:wallet-ui                 # = deno run -A bench/wallet_browser_latency.ts
 *   deno run -A bench/wallet_browser_latency.ts --blocks=50 --poll-ms=1000 --no-ws
 *
 * Options: `--blocks=N` samples (default 50), `--poll-ms=N` `CHAIN_POLL_MS` (default
 * 1000 with the WebSocket, as a configured node; the embedded chain uses 500). Prints one
 * JSON object and writes it to bench/results/wallet_browser_latency.json.
 */
import { startAnvil } from "../lib/wallet/anvil.ts";
import { DEV_ACCOUNTS, devChain } from "../lib/wallet/dev_chain.ts";
import type { ItemMessage } from "../lib/wallet/types.ts";
import { serveApp } from "../tests/_app.ts";
import { launchBrowser } from "../tests/_browser.ts";
import { deadline, waitFor } from "../tests/_deadline.ts";
import { signUp, waitItem, watch } from "../tests/_wallet.ts";
import { benchArgs } from "./_args.ts";

const args = benchArgs();
const intArg = args.int;

const BLOCKS = intArg("blocks", 50, 5, 500);
const POLL_MS = intArg("poll-ms", 1_000, 50, 60_000);
const WS = !args.has("no-ws");
const [A0, , , , , , W] = DEV_ACCOUNTS;

function now(): number {
  return performance.timeOrigin + performance.now();
}

function quantiles(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  const r = (n: number) => Math.round(n * 10) / 10;
  return { n: s.length, p50: r(q(0.5)), p95: r(q(0.95)), p99: r(q(0.99)), max: r(s[s.length - 1]) };
}

await using anvil = await startAnvil();
const chain = devChain(anvil.url);
await using app = await serveApp({
  env: {
    CHAIN_RPC_URL: anvil.url,
    ...(WS ? { CHAIN_WS_URL: anvil.url.replace(/^http/, "ws") } : {}),
    CHAIN_POLL_MS: String(POLL_MS),
    CHAIN_START_BLOCK: "0",
    CHAIN_CONFIRMATIONS: String(BLOCKS + 5),
    CHAIN_FINALITY: String(Math.max(64, BLOCKS + 5)),
  },
});
const cookie = await signUp(app, "bench");
const added = await watch(app, cookie, { address: W, label: "bench" });
if (added.status !== 201) throw new Error(`Cannot watch: ${await added.text()}`);
const hash = await chain.send({ from: A0, to: W, value: 10n ** 17n });
await chain.mine();
await waitItem(app, cookie, W, (i) => i.txHash === hash && i.status === "included", "inclusion");

/** When the item's message with each confirmation count reached the bus. */
const onBus = new Map<number, number>();
app.services.bus.onMessage((m) => {
  if (m.channel !== `wallet:${W}`) return;
  const data = m.data as ItemMessage;
  if (data.type === "item" && data.item.txHash === hash && !onBus.has(data.item.confirmations)) {
    onBus.set(data.item.confirmations, now());
  }
});

const browser = await launchBrowser();
const samples: { browser: number; bus: number | null }[] = [];
try {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const [name, value] = cookie.split("=");
  await context.addCookies([{ name, value, url: app.origin }]);
  const page = await context.newPage();
  await page.goto(`${app.origin}/wallet?address=${W}`);
  const row = `[data-testid=activity-item][data-id="${hash}:tx"]`;
  await page.waitForSelector(`[data-testid=feed-state][data-state=live]`, { timeout: 20_000 });
  await page.waitForSelector(row, { timeout: 20_000 });
  await page.$eval(row, (el) => {
    const seen: Record<number, number> = {};
    const g = globalThis as unknown as { __seen: Record<number, number> };
    g.__seen = seen;
    const record = () => {
      const chip = el.querySelector("[data-confirmations]");
      const n = Number(chip?.getAttribute("data-confirmations"));
      if (Number.isInteger(n) && !(n in seen)) seen[n] = performance.timeOrigin + performance.now();
    };
    record();
    new MutationObserver(record).observe(el, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ["data-confirmations"],
    });
  });
  let count = await page.$eval(
    row,
    (el) => Number(el.querySelector("[data-confirmations]")?.getAttribute("data-confirmations")),
  );
  for (let i = 0; i < BLOCKS; i++) {
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 300));
    await chain.mine();
    const mined = now();
    count++;
    const shown = await deadline(
      page.waitForFunction(
        (n) => (globalThis as unknown as { __seen: Record<number, number> }).__seen[n],
        count,
        { timeout: 10_000, polling: 50 },
      ).then((h) => h.jsonValue() as Promise<number>),
      15_000,
      `the page to show ${count} confirmations`,
    );
    await waitFor(() => onBus.has(count), {
      timeoutMs: 5_000,
      what: `message ${count} on the bus`,
    });
    samples.push({ browser: shown - mined, bus: (onBus.get(count) ?? mined) - mined });
  }
  await context.close();
} finally {
  await browser.close();
}

const result = {
  bench: "wallet head → browser",
  blocks: BLOCKS,
  wakeup: WS ? "CHAIN_WS_URL" : "polling",
  pollMs: POLL_MS,
  at: new Date().toISOString(),
  headToBrowserMs: quantiles(samples.map((s) => s.browser)),
  headToBusMs: quantiles(samples.map((s) => s.bus ?? 0)),
  busToBrowserMs: quantiles(samples.map((s) => s.browser - (s.bus ?? 0))),
};
console.log(JSON.stringify(result, null, 2));
await Deno.writeTextFile(
  new URL("./results/wallet_browser_latency.json", import.meta.url),
  JSON.stringify(result, null, 2) + "\n",
);
