/**
 * Fuzzed frames through real sockets against the app in process (issue 10, Tests):
 * every frame answered with one documented `error`, the sockets still usable, nothing
 * stored, the server's memory flat. `FUZZ_FRAMES` sets the count (default 10 000, over
 * both codecs); `deno task attack` runs the same fuzzer with the full sizes.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { serveApp } from "./_app.ts";
import { runFrameFuzz } from "./fixtures/fuzz_frames.ts";
import { openSocket } from "./_ws.ts";

const FRAMES = Number(Deno.env.get("FUZZ_FRAMES") ?? 10_000);
const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 1);

/**
 * The heap in use, after a full collection when V8 exposes one (`deno test
 * --v8-flags=--expose-gc`): then growth means memory held, not garbage not yet collected.
 */
function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return Deno.memoryUsage().heapUsed;
}

/** Keys in KV that the fuzzer's channels or users could have created. */
async function fuzzRecords(kv: Deno.Kv): Promise<string[]> {
  const found: string[] = [];
  for await (const { key } of kv.list({ prefix: [] })) {
    const text = JSON.stringify(key);
    if (/presence:|user:|system|nope|fuzz/.test(text)) found.push(text);
  }
  return found;
}

Deno.test({
  name: `[attack] ${FRAMES} fuzzed frames over both codecs: each answered, sockets usable`,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using app = await serveApp({
      env: {
        // The fuzzer paces itself under the announced rate: lift it so the run is short.
        WS_MESSAGES_PER_SECOND: "1000000",
        WS_MESSAGE_BURST: "1000000",
        MARKET_TICK_MS: "1000",
      },
    });
    const { auth, kv, hub } = app.services;
    const account = await auth.createAccount({ username: "fuzzer", password: "fuzzer-pass-1" });
    if (!account.ok) throw new Error(account.message);
    const { token } = await auth.issueToken(account.account);
    const url = `${app.origin.replace("http", "ws")}/api/ws`;
    const recordsBefore = await fuzzRecords(kv);
    // A first small run warms everything up; memory is compared around the full run.
    await runFrameFuzz({ url, token, frames: 400, seed: 10_000 + SEED });
    const heapBefore = heapUsed();
    const report = await runFrameFuzz({
      url,
      token,
      frames: FRAMES,
      seed: SEED,
      windowTimeoutMs: 5_000,
    });
    const heapAfter = heapUsed();
    const growthMiB = (heapAfter - heapBefore) / 2 ** 20;
    console.log(
      `fuzz: ${report.frames} frames in ${report.durationMs.toFixed(0)} ms (${
        report.framesPerSecond.toFixed(0)
      }/s), errors ${JSON.stringify(report.errors)}, heap ${(heapBefore / 2 ** 20).toFixed(1)} → ${
        (heapAfter / 2 ** 20).toFixed(1)
      } MiB`,
    );
    deepStrictEqual(report.problems.slice(0, 10), [], `${report.problems.length} problems`);
    equal(report.frames, FRAMES);
    equal(report.unanswered, 0);
    const answered = Object.values(report.errors).reduce((a, b) => a + b, 0);
    equal(answered, FRAMES, "exactly one error per frame");
    equal(report.errors.internal, undefined, "never an internal error");
    for (const socket of report.sockets) {
      ok(socket.usableAfter, `${socket.codec} socket #${socket.seed} usable afterwards`);
      equal(socket.closedWith, undefined);
    }
    // Both codecs and every generator ran.
    const kinds = new Set(report.sockets.flatMap((s) => Object.keys(s.kinds)));
    for (const kind of ["bomb-array32", "bomb-maps16", "deep-frame", "deep-data", "truncated"]) {
      ok(kinds.has(kind), `generator ${kind} ran`);
    }
    // Nothing was stored, nothing is held for the closed sockets.
    deepStrictEqual(await fuzzRecords(kv), recordsBefore, "no KV record from fuzzed frames");
    const stats = hub.stats();
    equal(stats.connections, 0, "every fuzz socket is gone");
    equal(stats.subscriptions, 0);
    // Without --expose-gc the figure includes garbage: a coarse bound only.
    const bound = "gc" in globalThis ? 8 : 96;
    ok(growthMiB < bound, `heap grew by ${growthMiB.toFixed(1)} MiB over ${FRAMES} frames`);
  },
});

Deno.test({
  name: "[attack] a frame over the size limit closes with 1009 after a disconnect frame",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using app = await serveApp({ env: { WS_MAX_FRAME_BYTES: "4096" } });
    const ws = await openSocket(`${app.origin.replace("http", "ws")}/api/ws`);
    try {
      await ws.next((f) => f.type === "connected");
      ws.send(`{"type":"ping","id":"${"x".repeat(5_000)}"}`);
      const notice = await ws.next((f) => f.type === "disconnect");
      deepStrictEqual(
        [(notice.data as { code: number }).code, (notice.data as { reconnect: boolean }).reconnect],
        [1009, true],
      );
      equal((await ws.closed()).code, 1009);
    } finally {
      await ws.close();
    }
  },
});
