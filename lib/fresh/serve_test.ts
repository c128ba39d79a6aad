import assert from "node:assert/strict";
import { serveOptions, start } from "./serve.ts";
import manifest from "./testdata/fresh.gen.ts";

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
  const { port } = await listening.promise;
  const res = await fetch(`http://127.0.0.1:${port}/about`);
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
  await opened.promise;
  socket.send("hi");
  assert.equal(await message.promise, "echo hi");
  socket.close();
  await closed.promise;

  controller.abort();
  await done;
});

Deno.test("[serve] a createHandler module runs under deno serve --parallel", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["serve", "--parallel", "-A", "--host", "127.0.0.1", "--port", String(port), MAIN.href],
    env: { DENO_JOBS: "2", NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  try {
    const origin = `http://127.0.0.1:${port}`;
    let page = "";
    for (let attempt = 0; attempt < 200 && page === ""; attempt++) {
      try {
        const res = await fetch(`${origin}/islands`, { client });
        page = await res.text();
        assert.equal(res.status, 200);
      } catch (e) {
        if (!(e instanceof TypeError)) throw e;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const clientUrl = /"(\/_frsh\/js\/[0-9a-f]+\/client\.js)"/.exec(page)?.[1];
    assert.ok(clientUrl, "the page references the client bundle");
    // New connections spread over the workers; every worker knows the same build id.
    for (let i = 0; i < 8; i++) {
      const res: Response = await fetch(origin + clientUrl, { client });
      await res.body?.cancel();
      assert.equal(res.status, 200);
    }
  } finally {
    client.close();
    child.kill("SIGTERM");
    await child.output();
  }
});
