import assert from "node:assert/strict";
import { build, dev } from "./dev.ts";
import { createHandler } from "./handler.ts";
import { isDevMode, setDevMode } from "./internal.ts";
import manifest from "./testdata/fresh.gen.ts";
import { deadline, fetchWithin } from "../../tests/_deadline.ts";

const ROOT = new URL("./testdata/", import.meta.url);
const TAMPER = "/* served from the build folder */";

async function get(handler: (req: Request) => Promise<Response>, path: string) {
  const res = await handler(new Request(`http://localhost${path}`));
  return { res, text: await res.text() };
}

function buildIdOf(html: string): string {
  return /data-build-id="([^"]+)"/.exec(html)![1];
}

// One build for the whole file, into a temporary build folder.
const dir = await Deno.makeTempDir({ prefix: "fresh_dev_test_" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
const outDir = `${dir}/_fresh`;
const built = await deadline(build(ROOT, { build: { outDir } }), 120_000, "the fixture's build");
await Deno.writeTextFile(`${outDir}/client.js`, TAMPER, { append: true });

Deno.test("[dev] build writes the bundles and snapshot.json into build.outDir", async () => {
  assert.equal(built.outDir, outDir);
  const snapshot = JSON.parse(await Deno.readTextFile(`${outDir}/snapshot.json`));
  assert.equal(snapshot.hash, built.bundle.hash);
  assert.deepEqual(Object.keys(snapshot.entries), ["client", ...Object.keys(manifest.islands)]);
  for (const file of snapshot.files) assert.ok((await Deno.stat(`${outDir}/${file}`)).isFile);
});

Deno.test("[dev] production handlers serve the build folder without bundling", async () => {
  const handler = await createHandler(manifest, { build: { outDir } });
  const page = await get(handler, "/counter");
  const client = await get(handler, `/_frsh/js/${buildIdOf(page.text)}/client.js`);
  assert.equal(client.res.status, 200);
  assert.ok(client.text.endsWith(TAMPER), "the file came from the build folder");
  assert.equal(client.res.headers.get("cache-control"), "public, max-age=31536000, immutable");
});

Deno.test("[dev] a build that lacks an island of the manifest is rejected", async () => {
  const stale = `${dir}/stale`;
  await Deno.mkdir(stale);
  const snapshot = JSON.parse(await Deno.readTextFile(`${outDir}/snapshot.json`));
  delete snapshot.entries["./islands/Props.tsx"];
  await Deno.writeTextFile(`${stale}/snapshot.json`, JSON.stringify(snapshot));
  for (const file of snapshot.files) await Deno.copyFile(`${outDir}/${file}`, `${stale}/${file}`);
  await assert.rejects(
    createHandler(manifest, { build: { outDir: stale } }),
    /^Error: Cannot use the build in .*stale: it has no bundle for \.\/islands\/Props\.tsx; run `deno task build`$/,
  );
});

Deno.test("[dev] without a build, a failing bundle stops startup with a hint", async () => {
  const root = `${dir}/broken`;
  await Deno.mkdir(`${root}/islands`, { recursive: true });
  await Deno.writeTextFile(`${root}/islands/Bad.tsx`, 'import "./missing.ts";\n');
  await assert.rejects(
    createHandler({
      routes: {},
      islands: { "./islands/Bad.tsx": { default: () => null } },
      baseUrl: `file://${root}/fresh.gen.ts`,
    }),
    /^Error: Cannot bundle islands: deno bundle exited [^]*run `deno task build` first$/,
  );
});

Deno.test("[dev] dev mode bundles in memory and never caches immutably", async () => {
  setDevMode(true);
  try {
    const handler = await createHandler(manifest, { build: { outDir } });
    const page = await get(handler, "/counter");
    const buildId = buildIdOf(page.text);
    const client = await get(handler, `/_frsh/js/${buildId}/client.js`);
    assert.equal(client.res.status, 200);
    assert.ok(!client.text.includes(TAMPER), "the build folder is ignored");
    assert.equal(client.res.headers.get("cache-control"), "no-cache");
    const css = await get(handler, `/styles.css?__frsh_c=${buildId}`);
    assert.equal(css.res.headers.get("cache-control"), "no-cache");
  } finally {
    setDevMode(false);
  }
});

Deno.test("[dev] dev() serves a deno serve entry point in dev mode", async () => {
  const controller = new AbortController();
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const done = dev(new URL("./dev.ts", ROOT).href, "./main.ts", {
    server: {
      port: 0,
      hostname: "127.0.0.1",
      signal: controller.signal,
      onListen: listening.resolve,
    },
  });
  try {
    const { port } = await deadline(listening.promise, 30_000, "dev() to listen");
    assert.equal(isDevMode(), true);
    const res = await fetchWithin(`http://127.0.0.1:${port}/counter`);
    const html = await res.text();
    assert.equal(res.status, 200);
    const client = await fetchWithin(
      `http://127.0.0.1:${port}/_frsh/js/${buildIdOf(html)}/client.js`,
    );
    await client.body?.cancel();
    assert.equal(client.headers.get("cache-control"), "no-cache");
  } finally {
    controller.abort();
    await deadline(done, 10_000, "dev() to return after the abort");
    setDevMode(false);
  }
});
