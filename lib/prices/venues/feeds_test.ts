/**
 * What every adapter must do the same way, run against each fake venue: a quiet symbol
 * goes stale while the others flow, malformed messages are counted and dropped, a dropped
 * socket is reconnected with backoff.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { waitFor } from "../../../tests/_deadline.ts";
import { isState, startHarness, WAIT_MS } from "../../../tests/fixtures/venue_harness.ts";
import type { FakeVenueName } from "../../../tests/fixtures/fake_venues.ts";

const SYMBOLS = ["BTC-USD", "ETH-USD"];
const VENUES: FakeVenueName[] = ["coinbase", "binance", "kraken"];

/** A message each venue's schema refuses although it is valid JSON of the right shape. */
const WRONG_TYPES: Record<FakeVenueName, string> = {
  // No sequence_num.
  coinbase: JSON.stringify({ channel: "ticker", client_id: "", timestamp: "x", events: [] }),
  // A price as a JSON number where Binance sends a string.
  binance: JSON.stringify({
    stream: "btcusdt@ticker",
    data: { e: "24hrTicker", E: 1, s: "BTCUSDT", c: 67_000 },
  }),
  // A price as a string where Kraken v2 sends a number.
  kraken: JSON.stringify({
    channel: "ticker",
    type: "update",
    data: [{ symbol: "BTC/USD", last: "67000" }],
  }),
};

for (const venue of VENUES) {
  Deno.test(`[${venue}] a quiet symbol goes stale while the others flow, fresh when it resumes`, async () => {
    await using h = startHarness(venue, { symbols: SYMBOLS, fake: { heartbeatMs: 100 } });
    h.pump(SYMBOLS);
    for (const s of SYMBOLS) await h.waitEvent(isState(s, "fresh"), `${s} fresh`);
    const from = h.mark();
    h.fake.silence("ETH-USD");
    await h.waitEvent(isState("ETH-USD", "stale", "quiet"), "ETH-USD stale (quiet)", from);
    assertEquals(h.states("BTC-USD", from), [], "BTC-USD stays fresh");
    assertEquals(h.feed.health().staleSymbols, ["ETH-USD"]);
    h.fake.silence("ETH-USD", false);
    await h.waitEvent(isState("ETH-USD", "fresh", "resumed"), "ETH-USD fresh (resumed)", from);
    assertEquals(h.feed.health().staleSymbols, []);
    assertEquals(h.fake.connections(), 1);
  });

  Deno.test(`[${venue}] malformed messages are counted, dropped, logged once; the feed runs on`, async () => {
    await using h = startHarness(venue, { symbols: SYMBOLS, fake: { heartbeatMs: 100 } });
    h.pump(SYMBOLS);
    for (const s of SYMBOLS) await h.waitEvent(isState(s, "fresh"), `${s} fresh`);
    h.fake.sendRaw("this is not JSON");
    h.fake.sendRaw("[1,2,3]");
    h.fake.sendRaw(JSON.stringify({ padding: "x".repeat(70_000) }));
    h.fake.sendRaw(WRONG_TYPES[venue]);
    await waitFor(() => h.feed.health().malformed === 4, {
      timeoutMs: WAIT_MS,
      what: "4 malformed messages counted",
      detail: () => JSON.stringify(h.feed.health()),
    });
    const logged = h.warnings.filter((w) => w.msg === "Dropped a malformed venue message");
    assertEquals(logged.length, 1, "logged at most once a minute");
    assertEquals(logged[0].fields?.reason, "invalid JSON");
    const from = h.mark();
    await h.waitEvent((e) => e.kind === "ticker", "a ticker after the garbage", from);
    const health = h.feed.health();
    assertEquals([health.connected, health.malformed, health.gaps], [true, 4, 0]);
    assertEquals(h.fake.connections(), 1);
  });

  Deno.test(`[${venue}] a dropped socket is reconnected with jittered backoff and resubscribed`, async () => {
    let draws = 0;
    await using h = startHarness(venue, {
      symbols: SYMBOLS,
      fake: { heartbeatMs: 100 },
      feed: {
        random: () => {
          draws++;
          return 0.5;
        },
      },
    });
    h.pump(SYMBOLS);
    for (const s of SYMBOLS) await h.waitEvent(isState(s, "fresh"), `${s} fresh`);
    const from = h.mark();
    h.fake.dropAll();
    await h.waitEvent(
      (e) => e.kind === "connection" && !e.connected,
      "the feed to see the drop",
      from,
    );
    for (const s of SYMBOLS) {
      await h.waitEvent(isState(s, "stale", "disconnected"), `${s} stale (disconnected)`, from);
    }
    await h.waitEvent((e) => e.kind === "connection" && e.connected, "the feed to reconnect", from);
    for (const s of SYMBOLS) await h.waitEvent(isState(s, "fresh"), `${s} fresh again`, from);
    assert(draws >= 1, "the backoff drew from the injected random");
    assertEquals(h.feed.health().reconnects, 1);
    assertEquals(h.fake.connections(), 2);
    assertEquals(h.fake.subscribed(), SYMBOLS);
  });
}
