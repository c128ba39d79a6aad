import assert from "node:assert/strict";
import { serveOptions, start } from "./serve.ts";
import manifest from "./testdata/fresh.gen.ts";
import { deadline, fetchWithin, spawnChild, waitFor } from "../../tests/_deadline.ts";

const MAIN = new URL("./testdata/main.ts", import.meta.url);

Deno.test("[serve] options: config first, then PORT/HOSTNAME, then 8000/0.0.0.0", () => {
  const none = () => undefined;
  assert.deepEqual(serveOptions({}, none), { port: 8000, hostname: "0.0.0.0" });
  const env = (name: string) => ({ PORT: "9123", HOSTNAME: "127.0.0.2" })[name];
  assert.deepEqual(serveOptions({}, env), { port: 9123, hostname: "127.0.0.2" });
  const signal = new AbortController().signal;
  const options = serveOptions({ server: { port: 0, hostname: "::1", signal } }, env);
  assert.equal(options.port, 0);
  assert.equal(options.hostname, "::1");
  assert.equal(options.signal, signal);
  assert.throws(
    () => serveOptions({}, (name) => name === "PORT" ? "eighty" : undefined),
    /^Error: Cannot listen: PORT must be a port number, got "eighty"$/,
  );
});

Deno.test("[serve] start() serves pages and WebSocket upgrades until its signal aborts", async () => {
  const controller = new AbortController();
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const done = start(manifest, {
    server: {
      port: 0,
      hostname: "127.0.0.1",
      signal: controller.signal,
      onListen: listening.resolve,
    },
  });
  try {
    const { port } = await deadline(listening.promise, 30_000, "start() to listen");
    const res = await fetchWithin(`http://127.0.0.1:${port}/about`);
    assert.equal(res.status, 200);
    assert.ok((await res.text()).includes("<h1>About</h1>"));

    const socket = new WebSocket(`ws://127.0.0.1:${port}/api/ws`);
    const opened = Promise.withResolvers<void>();
    const message = Promise.withResolvers<string>();
    const closed = Promise.withResolvers<void>();
    socket.onopen = () => opened.resolve();
    socket.onmessage = (event) => message.resolve(event.data);
    socket.onerror = () => opened.reject(new Error("Cannot open the socket"));
    socket.onclose = () => closed.resolve();
    try {
      await deadline(opened.promise, 10_000, "the socket to open");
      socket.send("hi");
      assert.equal(await deadline(message.promise, 10_000, "the echo of hi"), "echo hi");
    } finally {
      socket.close();
      await deadline(closed.promise, 10_000, "the socket to close");
    }
  } finally {
    controller.abort();
    await deadline(done, 10_000, "start() to return after the abort");
  }
});

Deno.test("[serve] a createHandler module runs under deno serve --parallel", async () => {
  // The child is stopped on every path: SIGTERM, and SIGKILL if it is still alive 3 s later
  // (a `deno serve --parallel` once kept answering after SIGTERM and hung the suite).
  await using child = spawnChild(
    Deno.execPath(),
    ["serve", "--parallel", "-A", "--host", "127.0.0.1", "--port", "0", MAIN.href],
    { env: { DENO_JOBS: "2", NO_COLOR: "1" }, name: "deno serve --parallel" },
  );
  const [, port] = await child.waitForOutput(
    /Listening on http:\/\/127\.0\.0\.1:(\d+)\/ with 2 threads/,
    60_000,
    "deno serve --parallel to listen",
  );
  const origin = `http://127.0.0.1:${port}`;
  using client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  // Both workers print the line once listening, but a worker may still be importing the
  // module: poll the page (bounded) until one answers.
  const page = await waitFor(async () => {
    try {
      const res = await fetchWithin(`${origin}/islands`, { client, timeoutMs: 10_000 });
      assert.equal(res.status, 200);
      return await res.text();
    } catch (e) {
      if (e instanceof TypeError) return ""; // connection refused: not serving yet
      throw e;
    }
  }, { timeoutMs: 60_000, intervalMs: 100, what: `${origin}/islands to answer` });
  const clientUrl = /"(\/_frsh\/js\/[0-9a-f]+\/client\.js)"/.exec(page)?.[1];
  assert.ok(clientUrl, "the page references the client bundle");
  // New connections spread over the workers; every worker knows the same build id.
  for (let i = 0; i < 8; i++) {
    const res = await fetchWithin(origin + clientUrl, { client, timeoutMs: 10_000 });
    await res.body?.cancel();
    assert.equal(res.status, 200);
  }
});
