/**
 * Bytes per price update on the wire, with and without delta messages, in JSON and
 * MessagePack. Four real WebSocket subscribers (JSON / MessagePack × full / delta) count
 * the bytes of every `message` frame on `prices:{SYMBOL}` channels; the delta subscribers
 * rebuild each quote from the patches, and every rebuilt quote is checked (against what
 * was published, or against the quote of the same time received whole), so the figures
 * are of a correct stream.
 *
 * Default: an in-process hub on a loopback port publishes realistic quote sequences
 * (tests/fixtures/quote_sequence.ts: shaped like the aggregator's, three venues,
 * VWAP / TWAP…) in two markets: `busy` (every venue may tick, trades move volume and the
 * averages on every quote) and `quiet` (one venue ticks per quote, the averages move
 * every 5th quote). Each quote reaches every subscriber before the next: nothing is
 * conflated. `--app`: the whole app in process (tests/_app.ts, `PRICE_SOURCES=simulated`:
 * three simulated venues and the aggregator), listened to for a while.
 *
 *   deno task bench:wire                            # 3 symbols × 1 000 quotes, both markets
 *   deno run -A bench/wire_bytes.ts 5 2000          # symbols, quotes per symbol
 *   deno run -A bench/wire_bytes.ts --app 3 30      # the app: symbols, seconds
 */
import { decode, encode } from "@msgpack/msgpack";
import { isDeepStrictEqual } from "node:util";
import { Hub } from "../lib/gateway/mod.ts";
import { serveHub } from "../lib/gateway/_serve_hub.ts";
import { anonymous } from "../lib/gateway/_test_util.ts";
import { applyPatch } from "../lib/protocol/delta.ts";
import { quoteSequence } from "../tests/fixtures/quote_sequence.ts";

const appMode = Deno.args[0] === "--app";
const args = appMode ? Deno.args.slice(1) : Deno.args;
const symbolCount = Number(args[0] ?? 3);
const SYMBOLS = ["BTC-USD", "ETH-USD", "SOL-USD", "ADA-USD", "DOGE-USD", "XRP-USD"]
  .slice(0, symbolCount);
const START_PRICES = [67_000, 3_500, 160, 0.45, 0.16, 0.6];

type CodecName = "json" | "msgpack";

/** One subscriber: its codec, whether it asked for delta, and what it counted. */
interface Subscriber {
  name: string;
  codec: CodecName;
  delta: boolean;
  socket: WebSocket;
  messages: number;
  patches: number;
  /** Bytes of the frames' payloads. */
  payload: number;
  /** Payload plus the WebSocket frame header (2 bytes up to 125, 4 up to 65 535). */
  wire: number;
  /** `channel ts` → the quote delivered (rebuilt from a patch or whole). */
  quotes: Map<string, unknown>;
  /** Quotes that differ from what was published. */
  mismatches: number;
}

function header(size: number): number {
  return size <= 125 ? 2 : size <= 65_535 ? 4 : 10;
}

/**
 * Opens a subscriber and subscribes to every symbol. `onQuote` sees each quote delivered
 * and says whether it is the expected one (undefined: cannot tell here).
 */
async function subscriber(
  url: string,
  codec: CodecName,
  delta: boolean,
  onQuote: (channel: string, quote: unknown) => boolean | undefined,
): Promise<Subscriber> {
  const socket = new WebSocket(url, [`realtime.v1.${codec}`]);
  socket.binaryType = "arraybuffer";
  const s: Subscriber = {
    name: `${codec}, ${delta ? "delta" : "full"}`,
    codec,
    delta,
    socket,
    messages: 0,
    patches: 0,
    payload: 0,
    wire: 0,
    quotes: new Map(),
    mismatches: 0,
  };
  const last = new Map<string, unknown>();
  const subscribed = Promise.withResolvers<void>();
  let pending = SYMBOLS.length;
  socket.onmessage = (e) => {
    const size = typeof e.data === "string"
      ? new TextEncoder().encode(e.data).byteLength
      : (e.data as ArrayBuffer).byteLength;
    const m = (typeof e.data === "string" ? JSON.parse(e.data) : decode(e.data)) as {
      type: string;
      channel: string;
      data: unknown;
      delta?: boolean;
    };
    if (m.type === "subscribed" && --pending === 0) subscribed.resolve();
    if (m.type !== "message") return;
    s.messages++;
    s.payload += size;
    s.wire += size + header(size);
    let quote = m.data;
    if (m.delta) {
      s.patches++;
      const r = applyPatch(last.get(m.channel), m.data);
      if (!r.ok) throw new Error(`${s.name}: ${r.error}`);
      quote = r.value;
    }
    last.set(m.channel, quote);
    s.quotes.set(`${m.channel} ${(quote as { ts: number }).ts}`, quote);
    if (onQuote(m.channel, quote) === false) s.mismatches++;
  };
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  for (const symbol of SYMBOLS) {
    const frame = { type: "subscribe", channel: `prices:${symbol}`, ...(delta ? { delta } : {}) };
    socket.send(codec === "json" ? JSON.stringify(frame) : encode(frame));
  }
  await subscribed.promise;
  return s;
}

/** Four subscribers: JSON / MessagePack × full / delta. */
async function subscribers(
  url: string,
  onQuote: (channel: string, quote: unknown) => boolean | undefined,
): Promise<Subscriber[]> {
  const out: Subscriber[] = [];
  for (const codec of ["json", "msgpack"] as const) {
    for (const delta of [false, true]) out.push(await subscriber(url, codec, delta, onQuote));
  }
  return out;
}

/** Prints the table; false when a subscriber's figures cannot be trusted. */
function report(title: string, subs: Subscriber[]): boolean {
  // Delta subscribers must agree with the full one of their codec on every common quote.
  for (const s of subs.filter((s) => s.delta)) {
    const full = subs.find((b) => b.codec === s.codec && !b.delta)!;
    for (const [key, quote] of s.quotes) {
      if (full.quotes.has(key) && !isDeepStrictEqual(quote, full.quotes.get(key))) {
        s.mismatches++;
      }
    }
  }
  const fullJson = subs.find((s) => s.codec === "json" && !s.delta)!;
  const rows = subs.map((s) => {
    const base = subs.find((b) => b.codec === s.codec && !b.delta)!;
    const perUpdate = s.payload / s.messages;
    return {
      subscriber: s.name,
      messages: s.messages,
      patches: s.patches,
      bytesPerUpdate: round1(perUpdate),
      wireBytesPerUpdate: round1(s.wire / s.messages),
      vsFullSameCodec: `${Math.round((100 * perUpdate) / (base.payload / base.messages))} %`,
      vsFullJson: `${Math.round((100 * perUpdate) / (fullJson.payload / fullJson.messages))} %`,
      mismatches: s.mismatches,
    };
  });
  console.log(`\n${title}\n`);
  const columns = Object.keys(rows[0]) as (keyof typeof rows[0])[];
  console.log(`| ${columns.join(" | ")} |`);
  console.log(`| ${columns.map(() => "---").join(" | ")} |`);
  for (const r of rows) console.log(`| ${columns.map((c) => r[c]).join(" | ")} |`);
  for (const s of subs) s.socket.close();
  return subs.every((s) => s.mismatches === 0 && s.messages > 0);
}

/** The default: a hub publishing the fixture's sequences, both markets. */
async function fixtures(perSymbol: number): Promise<boolean> {
  const hub = new Hub({
    serverId: "bench",
    namespaces: {
      prices: {
        subscribe: "public",
        publish: "none",
        mode: "latest",
        presence: false,
        history: { size: 1, ttlMs: 60_000 },
      },
    },
  });
  hub.start();
  const served = serveHub(hub, anonymous());
  const url = served.url;
  let trusted = true;
  try {
    for (const market of ["busy", "quiet"] as const) {
      const sequences = new Map(SYMBOLS.map((s, i) => [
        s,
        quoteSequence(perSymbol, {
          symbol: s,
          price: START_PRICES[i],
          seed: 100 + i,
          quiet: market === "quiet",
        }),
      ]));
      const expected = new Map<string, unknown>(); // channel → the quote just published
      let waiting: { left: number; done: () => void } | null = null;
      const subs = await subscribers(url, (channel, quote) => {
        if (waiting && --waiting.left === 0) waiting.done();
        return isDeepStrictEqual(quote, expected.get(channel));
      });
      const started = performance.now();
      for (let i = 0; i < perSymbol; i++) {
        const round = Promise.withResolvers<void>();
        waiting = { left: SYMBOLS.length * subs.length, done: round.resolve };
        for (const symbol of SYMBOLS) {
          const quote = sequences.get(symbol)![i];
          // What the wire can carry (JSON has no -0).
          expected.set(`prices:${symbol}`, JSON.parse(JSON.stringify(quote)));
          hub.deliver(`prices:${symbol}`, quote, { offset: i + 1, epoch: market });
        }
        await within(round.promise, 10_000, `every subscriber to get round ${i}`);
      }
      const seconds = (performance.now() - started) / 1000;
      const size = JSON.stringify(sequences.get(SYMBOLS[0])![1]).length;
      trusted = report(
        `${market} market: ${SYMBOLS.length} symbols × ${perSymbol} quotes, ${size} B of quote JSON each (${
          SYMBOLS[0]
        }), in ${seconds.toFixed(1)} s`,
        subs,
      ) && trusted;
      trusted &&= subs.every((s) => s.messages === SYMBOLS.length * perSymbol);
    }
  } finally {
    hub.stop();
    await served.close();
  }
  return trusted;
}

/** `--app`: the app in process with its default (simulated) venues and aggregator. */
async function app(seconds: number): Promise<boolean> {
  const { serveApp } = await import("../tests/_app.ts");
  const running = await serveApp();
  try {
    const subs = await subscribers(
      `${running.origin.replace("http", "ws")}/api/ws`,
      () => undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const sample = [...subs[0].quotes.values()].at(-1);
    return report(
      `the app (PRICE_SOURCES=simulated): ${SYMBOLS.length} symbols for ${seconds} s, ${
        JSON.stringify(sample).length
      } B of quote JSON each (${SYMBOLS[0]})`,
      subs,
    );
  } finally {
    await running.stop();
  }
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

const trusted = appMode
  ? await app(Number(args[1] ?? 30))
  : await fixtures(Number(args[1] ?? 1_000));
if (!trusted) {
  console.error("Cannot trust these figures: a subscriber missed or misbuilt a quote");
  Deno.exit(1);
}
