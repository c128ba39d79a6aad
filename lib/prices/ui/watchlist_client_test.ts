import { deepEqual, equal, match } from "node:assert/strict";
import { createWatchlist, WATCHLIST_STORAGE_KEY } from "./watchlist_client.ts";

function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return {
    data,
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
  };
}

Deno.test("[prices/ui] watchlist: a visitor's stars live in localStorage", async () => {
  const storage = memoryStorage({ [WATCHLIST_STORAGE_KEY]: '["ETH-USD","nonsense"]' });
  const w = createWatchlist({ signedIn: false, storage });
  await w.load();
  deepEqual([...w.symbols.value], [], "an invalid stored list is ignored");
  storage.data.set(WATCHLIST_STORAGE_KEY, '["ETH-USD"]');
  await w.load();
  deepEqual([...w.symbols.value], ["ETH-USD"]);
  w.toggle("BTC-USD");
  w.toggle("ETH-USD");
  equal(storage.data.get(WATCHLIST_STORAGE_KEY), '["BTC-USD"]');
  equal(w.status.value, "local");
  // Storage that throws (privacy mode): the list still works for the page.
  const broken = createWatchlist({
    signedIn: false,
    storage: {
      getItem: () => {
        throw new Error("denied");
      },
      setItem: () => {
        throw new Error("denied");
      },
    },
  });
  await broken.load();
  equal(broken.toggle("SOL-USD"), true);
  deepEqual([...broken.symbols.value], ["SOL-USD"]);
});

Deno.test("[prices/ui] watchlist: signed in, saves go to the server one at a time, latest last", async () => {
  const puts: string[] = [];
  let release: (() => void) | null = null;
  const fetchFake = (async (_url: string, init?: RequestInit) => {
    if (!init?.method) return Response.json({ symbols: ["XRP-USD"] });
    puts.push(String(init.body));
    if (puts.length === 1) await new Promise<void>((r) => release = r);
    return Response.json({ symbols: [] });
  }) as typeof fetch;
  const w = createWatchlist({ signedIn: true, fetch: fetchFake, storage: memoryStorage() });
  equal(w.status.value, "loading");
  await w.load();
  deepEqual([...w.symbols.value], ["XRP-USD"]);
  equal(w.status.value, "synced");
  w.toggle("BTC-USD"); // first save starts and hangs
  w.toggle("ETH-USD"); // coalesced
  w.toggle("XRP-USD"); // coalesced
  equal(puts.length, 1);
  equal(w.status.value, "saving");
  while (!release) await new Promise((r) => setTimeout(r, 1));
  (release as () => void)();
  await w.idle();
  deepEqual(puts, [
    '{"symbols":["XRP-USD","BTC-USD"]}',
    '{"symbols":["BTC-USD","ETH-USD"]}',
  ]);
  equal(w.status.value, "synced");
});

Deno.test("[prices/ui] watchlist: a refused save or load says so", async () => {
  const fetchFake = ((_url: string, init?: RequestInit) => {
    if (!init?.method) return Promise.resolve(new Response("nope", { status: 500 }));
    return Promise.resolve(
      Response.json({ error: { code: "bad_request", message: 'Unknown pair "ZZZ-USD"' } }, {
        status: 400,
      }),
    );
  }) as typeof fetch;
  const w = createWatchlist({ signedIn: true, fetch: fetchFake });
  await w.load();
  equal(w.status.value, "error");
  match(w.error.value ?? "", /could not be loaded \(status 500\)/);
  w.toggle("ZZZ-USD");
  await w.idle();
  equal(w.status.value, "error");
  match(w.error.value ?? "", /could not be saved \(Unknown pair "ZZZ-USD"\)/);
  deepEqual(
    [...w.symbols.value],
    ["ZZZ-USD"],
    "the star stays shown; the notice says it is not saved",
  );
});

Deno.test("[prices/ui] watchlist: at most 50 pairs", () => {
  const w = createWatchlist({ signedIn: false, storage: memoryStorage() });
  for (let i = 0; i < 50; i++) equal(w.toggle(`A${i}-USD`), true);
  equal(w.toggle("BTC-USD"), false);
  equal(w.symbols.value.size, 50);
  match(w.error.value ?? "", /at most 50/);
});
