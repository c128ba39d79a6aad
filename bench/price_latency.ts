/**
 * Update latency venue → browser. Three fake venues (tests/fixtures/fake_venues.ts, in
 * this process, each speaking its venue's format) feed the app as `deno task start`
 * serves it (the guarded server, one isolate per core, a KV file,
 * `PRICE_SOURCES=coinbase,binance,kraken`, the default publish policy). Every pair steps
 * to a new price at random moments (300–900 ms apart, each step ≥ 0.02 %, above the
 * 0.01 % deviation threshold): one trade on every venue (Coinbase and Kraken also send a
 * ticker; Binance at most one ticker a second, as Binance does). The venues quote the same
 * price, so the median the app publishes is that price, and a price is never sent twice,
 * so it names its step: this bench keeps price → the time the fakes sent it.
 *
 * Measured from the fake's send (both on this machine's clock) to:
 *
 * - a Deno client (lib/client `RealtimeClient`, JSON with delta as the page) receiving
 *   the quote on `prices:{SYMBOL}`; the quote's `ts` (the engine round that computed it)
 *   splits that into the wait for the round and the rest (board write, bus, gateway);
 * - Chromium showing it: a MutationObserver on each board row's price records
 *   `performance.timeOrigin + performance.now()` at every text change.
 *
 *   deno task bench:prices                    # = deno run -A bench/price_latency.ts
 *   deno run -A bench/price_latency.ts --seconds=40 --stress-cpu=2
 *
 * Options: `--seconds=N` measured (default 40), `--jobs=N` isolates (default: one per
 * core, as `deno task start`), `--stress-cpu=N` runs `stress-ng --cpu N` while measuring,
 * `--tick-ms=N` sets `MARKET_TICK_MS` (default: the app's, 250), `--build` runs
 * `deno task build` first (else the islands come from `_fresh/` if it exists, as
 * `deno serve main.ts` does). Prints one JSON object.
 */
import type { Page } from "playwright-core";
import { RealtimeClient } from "../lib/client/mod.ts";
import { priceDecimals } from "../lib/prices/format.ts";
import { DEFAULT_ASSETS } from "../lib/prices/simulated.ts";
import type { Quote } from "../lib/prices/types.ts";
import { launchBrowser } from "../tests/_browser.ts";
import { type Child, deadline, fetchWithin, spawnChild, waitFor } from "../tests/_deadline.ts";
import { startApp } from "../tests/_server.ts";
import { denoWebSocket } from "../tests/_ws.ts";
import {
  type FakeVenue,
  startFakeBinance,
  startFakeCoinbase,
  startFakeKraken,
} from "../tests/fixtures/fake_venues.ts";
import { benchArgs } from "./_args.ts";

const args = benchArgs();
const intArg = args.int;

const SECONDS = intArg("seconds", 40, 5, 600);
const JOBS = intArg("jobs", navigator.hardwareConcurrency, 1, 16);
const STRESS_CPU = intArg("stress-cpu", 0, 0, 16);
const TICK_MS = args.has("tick-ms") ? intArg("tick-ms", 250, 10, 60_000) : undefined;
const BUILD = args.has("build");
/** Steps of one pair are this far apart, ms (uniform). */
const STEP_MIN_MS = 300;
const STEP_MAX_MS = 900;
/** How long updates may still arrive after the last measured step, ms. */
const TAIL_MS = 2_000;

const SYMBOLS = DEFAULT_ASSETS.map((a) => a.symbol);
const ROOT = new URL("../", import.meta.url);

/** The key a price is known by: as the page shows it (its decimals), without formatting. */
function keyOf(price: number): string {
  return price.toFixed(priceDecimals(price));
}

function percentiles(values: number[]) {
  const v = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    v.length === 0 ? null : v[Math.min(v.length - 1, Math.floor(q * v.length))];
  const round = (x: number | null) => x === null ? null : Math.round(x * 10) / 10;
  return {
    n: v.length,
    p50: round(at(0.5)),
    p90: round(at(0.9)),
    p99: round(at(0.99)),
    max: round(v.at(-1) ?? null),
  };
}

/** Steps every pair on every venue at random moments; remembers when each price was sent. */
function startStepper(venues: FakeVenue[]) {
  /** symbol → price key → send time (ms since the epoch), while measuring. */
  const sent = new Map<string, Map<string, number>>();
  /** symbol → every key ever sent (warm-up included): a price is never reused. */
  const used = new Map<string, Set<string>>();
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const lastBinanceTicker = new Map<string, number>();
  let measuring = false;
  let stopped = false;
  let steps = 0;

  const state = new Map(DEFAULT_ASSETS.map((a) => [a.symbol, a.price]));

  function nextPrice(symbol: string): number {
    const start = DEFAULT_ASSETS.find((a) => a.symbol === symbol)!.price;
    const current = state.get(symbol)!;
    const decimals = priceDecimals(current);
    const unit = 10 ** -decimals;
    // 0.02 %–0.06 % of the price, in whole display units (at least one).
    const size = Math.max(1, Math.round((current * (2 + Math.random() * 4) / 10_000) / unit));
    // A random walk pulled back towards the starting price.
    const drift = (start - current) / start;
    const dir = Math.random() < 0.5 + Math.max(-0.4, Math.min(0.4, drift * 20)) ? 1 : -1;
    const seen = used.get(symbol) ?? new Set<string>();
    used.set(symbol, seen);
    let units = Math.round(current / unit) + dir * size;
    for (let i = 0; i < 100_000 && seen.has(keyOf(units * unit)); i++) units += dir;
    const price = Number((units * unit).toFixed(decimals));
    seen.add(keyOf(price));
    state.set(symbol, price);
    return price;
  }

  function step(symbol: string): void {
    const price = nextPrice(symbol);
    const at = Date.now();
    for (const venue of venues) {
      if (venue.name === "coinbase" && symbol === "BNB-USD") continue;
      const spread = price * 0.0001;
      venue.trade(symbol, { price, size: 0.1, side: Math.random() < 0.5 ? "buy" : "sell" });
      if (venue.name === "binance") {
        if (at - (lastBinanceTicker.get(symbol) ?? 0) < 1_000) continue;
        lastBinanceTicker.set(symbol, at);
      }
      venue.tick(symbol, { price, bid: price - spread, ask: price + spread });
    }
    if (measuring) {
      steps++;
      const map = sent.get(symbol) ?? new Map<string, number>();
      map.set(keyOf(price), at);
      sent.set(symbol, map);
    }
  }

  function schedule(symbol: string): void {
    if (stopped) return;
    const delay = STEP_MIN_MS + Math.random() * (STEP_MAX_MS - STEP_MIN_MS);
    timers.set(
      symbol,
      setTimeout(() => {
        step(symbol);
        schedule(symbol);
      }, delay),
    );
  }

  for (const symbol of SYMBOLS) schedule(symbol);
  return {
    sent,
    used,
    steps: () => steps,
    measure(on: boolean) {
      measuring = on;
    },
    stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
    },
  };
}

/** A Deno client recording the first arrival of every price. */
function startDenoClient(origin: string) {
  /** symbol → price key → { receive time, quote ts }. */
  const seen = new Map<string, Map<string, { at: number; ts: number }>>();
  const subscribed = new Set<string>();
  const client = new RealtimeClient({
    url: `${origin.replace("http", "ws")}/api/ws`,
    codec: "json",
    delta: true,
    pingIntervalMs: 0,
    createSocket: (url, _token, protocols) => denoWebSocket(url, { protocols }),
  });
  for (const symbol of SYMBOLS) {
    client.subscribe<Quote>(`prices:${symbol}`, {
      onMessage(q) {
        const at = Date.now();
        const map = seen.get(symbol) ?? new Map<string, { at: number; ts: number }>();
        seen.set(symbol, map);
        const key = keyOf(q.price);
        if (!map.has(key)) map.set(key, { at, ts: q.ts });
      },
      onSubscribed: () => subscribed.add(symbol),
    });
  }
  client.connect();
  return { client, seen, subscribed };
}

/** Installs the MutationObservers on the board's prices; returns a reader of the log. */
async function observeBoard(page: Page): Promise<() => Promise<[string, string, number][]>> {
  const count = await page.evaluate(() => {
    const log: [string, string, number][] = [];
    (globalThis as unknown as { __priceLog: typeof log }).__priceLog = log;
    const cells = document.querySelectorAll<HTMLElement>(
      ".board tbody tr[data-symbol] [data-testid=price]",
    );
    for (const el of cells) {
      const symbol = el.closest("tr")!.getAttribute("data-symbol")!;
      let last = el.textContent ?? "";
      new MutationObserver(() => {
        const t = performance.timeOrigin + performance.now();
        const text = el.textContent ?? "";
        if (text === last) return;
        last = text;
        log.push([symbol, text, t]);
      }).observe(el, { characterData: true, childList: true, subtree: true });
    }
    return cells.length;
  });
  if (count !== SYMBOLS.length) {
    throw new Error(`Cannot observe the board: ${count} price cells, expected ${SYMBOLS.length}`);
  }
  return () =>
    page.evaluate(() =>
      (globalThis as unknown as { __priceLog: [string, string, number][] }).__priceLog
    );
}

async function build(): Promise<void> {
  const child = spawnChild(Deno.execPath(), ["run", "-A", "dev.ts", "build"], {
    cwd: ROOT,
    name: "deno task build",
  });
  const status = await deadline(child.status, 180_000, "deno task build").finally(() =>
    child.stop()
  );
  if (!status.success) {
    throw new Error(`Cannot build the islands:\n${child.output().slice(-2_000)}`);
  }
}

async function main(): Promise<void> {
  if (BUILD) await build();
  const kvDir = await Deno.makeTempDir({ prefix: "price_latency_" });
  const venues = [startFakeCoinbase(), startFakeBinance(), startFakeKraken()];
  const stepper = startStepper(venues);
  const url = (name: string) => venues.find((v) => v.name === name)!.url;
  const cleanups: (() => Promise<unknown>)[] = [];
  let stress: Child | undefined;
  try {
    const env: Record<string, string> = {
      PRICE_SOURCES: "coinbase,binance,kraken",
      COINBASE_WS_URL: url("coinbase"),
      BINANCE_WS_URL: url("binance"),
      KRAKEN_WS_URL: url("kraken"),
      KV_PATH: `${kvDir}/kv.sqlite`,
      // The wallet's chain is not part of this path (deno task start would run anvil).
      CHAIN: "off",
    };
    if (TICK_MS !== undefined) env.MARKET_TICK_MS = String(TICK_MS);
    const app = await startApp({ guard: true, parallel: JOBS, env });
    cleanups.push(() => app.stop());
    // Every pair quoted by all its venues (BNB: two, Coinbase does not list it).
    await waitFor(async () => {
      const board = await (await fetchWithin(`${app.origin}/api/prices`)).json();
      return SYMBOLS.every((s) => {
        const q = board.quotes?.[s] as Quote | undefined;
        return q && q.sourcesUsed === (s === "BNB-USD" ? 2 : 3);
      });
    }, {
      timeoutMs: 60_000,
      what: "every pair quoted by all its venues",
      detail: () => app.output().slice(-2_000),
    });

    const browser = await launchBrowser();
    cleanups.push(() => deadline(browser.close(), 30_000, "Chromium to close"));
    const context = await browser.newContext({
      locale: "en-US",
      viewport: { width: 1440, height: 900 },
    });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (err) => pageErrors.push(err.message));
    await page.goto(`${app.origin}/`, { timeout: 30_000 });
    await page.waitForSelector(".conn[data-state=connected]", { timeout: 30_000 });
    const readLog = await observeBoard(page);

    const deno = startDenoClient(app.origin);
    cleanups.push(() => Promise.resolve(deno.client.disconnect()));
    await waitFor(() => deno.subscribed.size === SYMBOLS.length, {
      timeoutMs: 15_000,
      what: "the Deno client's subscriptions",
      detail: () => `${deno.subscribed.size} of ${SYMBOLS.length}`,
    });

    if (STRESS_CPU > 0) {
      stress = spawnChild("stress-ng", [
        "--cpu",
        String(STRESS_CPU),
        "--timeout",
        `${SECONDS + 30}s`,
      ], { name: "stress-ng" });
    }
    // Let the first rounds under the new load pass.
    await new Promise((r) => setTimeout(r, 1_000));
    const skewBefore = await page.evaluate(() =>
      performance.timeOrigin + performance.now() - Date.now()
    );
    const load0 = Deno.loadavg()[0];
    stepper.measure(true);
    const started = performance.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1_000));
    stepper.measure(false);
    const measuredMs = performance.now() - started;
    await new Promise((r) => setTimeout(r, TAIL_MS));
    stepper.stop();
    await stress?.stop();
    const load1 = Deno.loadavg()[0];
    const skewAfter = await page.evaluate(() =>
      performance.timeOrigin + performance.now() - Date.now()
    );
    const log = await readLog();

    // Match arrivals with sends.
    const toDeno: number[] = [];
    const roundWait: number[] = [];
    const roundToDeno: number[] = [];
    const toDom: number[] = [];
    const denoToDom: number[] = [];
    let sentCount = 0;
    for (const [symbol, map] of stepper.sent) {
      sentCount += map.size;
      for (const [key, at] of map) {
        const got = deno.seen.get(symbol)?.get(key);
        if (got) {
          toDeno.push(got.at - at);
          roundWait.push(got.ts - at);
          roundToDeno.push(got.at - got.ts);
        }
      }
    }
    const shown = new Set<string>();
    const unmatched: string[] = [];
    let outsideWindow = 0;
    for (const [symbol, text, t] of log) {
      const value = Number(text.replace(/[^\d.]/g, ""));
      const key = Number.isFinite(value) && value > 0 ? keyOf(value) : "";
      const at = stepper.sent.get(symbol)?.get(key);
      if (at === undefined) {
        // Sent before or after the measured window; or never (e.g. the mean of two venues
        // caught between their updates by a round).
        if (stepper.used.get(symbol)?.has(key)) outsideWindow++;
        else unmatched.push(`${symbol} ${text}`);
        continue;
      }
      if (shown.has(`${symbol}|${key}`)) {
        unmatched.push(`${symbol} ${text} (again)`);
        continue;
      }
      shown.add(`${symbol}|${key}`);
      toDom.push(t - at);
      const got = deno.seen.get(symbol)?.get(key);
      if (got) denoToDom.push(t - got.at);
    }

    console.log(JSON.stringify(
      {
        command: ["deno run -A bench/price_latency.ts", ...Deno.args].join(" "),
        setup: {
          isolates: JOBS,
          marketTickMs: TICK_MS ?? 250,
          policy: "PRICE_DEVIATION_PCT 0.01, PRICE_HEARTBEAT_MS 1000 (defaults)",
          symbols: SYMBOLS.length,
          stressCpu: STRESS_CPU,
          measuredSeconds: Math.round(measuredMs / 100) / 10,
          loadavg1m: [load0, load1].map((x) => Math.round(x * 100) / 100),
          pageClockSkewMs: [skewBefore, skewAfter].map((x) => Math.round(x * 10) / 10),
        },
        steps: stepper.steps(),
        distinctPricesSent: sentCount,
        venueToDenoClient: percentiles(toDeno),
        venueToBrowserDom: percentiles(toDom),
        split: {
          venueToEngineRound: percentiles(roundWait),
          engineRoundToDenoClient: percentiles(roundToDeno),
          denoClientToBrowserDom: percentiles(denoToDom),
        },
        domChangesOutsideWindow: outsideWindow,
        domChangesNotMatched: unmatched.length,
        domChangesNotMatchedSamples: unmatched.slice(0, 5),
        pageErrors,
      },
      null,
      2,
    ));
  } finally {
    stepper.stop();
    await stress?.stop().catch(() => {});
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((err) => console.error(`clean-up: ${err}`));
    }
    await Promise.all(venues.map((v) => v.close()));
    await Deno.remove(kvDir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (err) {
    console.error(err instanceof Error ? err.stack ?? err.message : err);
    Deno.exit(1);
  }
  // Nothing may keep the bench alive (the children are stopped above).
  Deno.exit(0);
}
