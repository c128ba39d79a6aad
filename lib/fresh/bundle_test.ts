import assert from "node:assert/strict";
import {
  bundleIslands,
  entryFileNames,
  hashFiles,
  readSnapshot,
  staticImports,
  writeSnapshot,
} from "./bundle.ts";
import { deadline } from "../../tests/_deadline.ts";

const ROOT = new URL("./testdata/", import.meta.url);
const ISLANDS = [
  "./islands/SharedInc.tsx",
  "./islands/SharedView.tsx",
  "./islands/sub/Counter.tsx",
];

// Bundled once for the whole file (a `deno bundle` child: bounded, slow on a loaded machine).
const bundle = await deadline(
  bundleIslands({ root: ROOT, islands: ISLANDS }),
  120_000,
  "deno bundle of the fixture's islands",
);

Deno.test("[bundle] entry names are stable, readable and collision-free", () => {
  assert.deepEqual(
    entryFileNames([
      "./islands/sub/Counter.tsx",
      "./islands/Counter.tsx",
      "./islands/sub_Counter.tsx",
    ]),
    {
      client: "client.js",
      "./islands/Counter.tsx": "island-Counter.js",
      "./islands/sub/Counter.tsx": "island-sub_Counter.js",
      "./islands/sub_Counter.tsx": "island-sub_Counter-2.js",
    },
  );
  // Names differing only in case are made unique too (case-insensitive file systems).
  const names = entryFileNames(["./islands/a.tsx", "./islands/A.tsx", "./islands/client.tsx"]);
  assert.equal(new Set(Object.values(names).map((n) => n.toLowerCase())).size, 4);
  assert.equal(names["./islands/client.tsx"], "island-client.js");
});

Deno.test("[bundle] static imports of minified modules are found", () => {
  assert.deepEqual(
    staticImports('import{a as b}from"./chunk-AB.js";import"./chunk-CD.js";import("./lazy.js")'),
    ["chunk-AB.js", "chunk-CD.js"],
  );
});

Deno.test("[bundle] deno bundle writes every entry plus shared chunks", () => {
  assert.deepEqual(bundle.entries, entryFileNames(ISLANDS));
  for (const name of Object.values(bundle.entries)) assert.ok(bundle.files.has(name), name);
  const decoder = new TextDecoder();
  for (const [name, contents] of bundle.files) {
    for (const dep of staticImports(decoder.decode(contents))) {
      assert.ok(bundle.files.has(dep), `${name} imports ${dep}, which exists`);
    }
  }
  // The module-level signal lives in a chunk shared by both islands, not in each island.
  const inc = decoder.decode(bundle.files.get("island-SharedInc.js"));
  const view = decoder.decode(bundle.files.get("island-SharedView.js"));
  const shared = staticImports(inc).filter((dep) => staticImports(view).includes(dep));
  assert.ok(shared.length > 0, "the islands share at least one chunk");
  assert.match(bundle.hash, /^[0-9a-f]{20}$/);
});

Deno.test("[bundle] the hash covers names and contents", async () => {
  const files = new Map([["a.js", new Uint8Array([1])]]);
  const hash = await hashFiles(files);
  assert.equal(await hashFiles(new Map(files)), hash);
  assert.notEqual(await hashFiles(new Map([["b.js", new Uint8Array([1])]])), hash);
  assert.notEqual(await hashFiles(new Map([["a.js", new Uint8Array([2])]])), hash);
  assert.equal(await hashFiles(bundle.files), bundle.hash);
});

Deno.test("[bundle] a snapshot round-trips and replaces the previous build", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fresh_bundle_test_" });
  try {
    const outDir = `${dir}/_fresh`;
    await Deno.mkdir(outDir);
    await Deno.writeTextFile(`${outDir}/snapshot.json`, "{}");
    await Deno.writeTextFile(`${outDir}/stale.js`, "old");
    await writeSnapshot(bundle, outDir);
    const read = await readSnapshot(outDir);
    assert.ok(read);
    assert.equal(read.hash, bundle.hash);
    assert.deepEqual(read.entries, bundle.entries);
    assert.deepEqual([...read.files.keys()].sort(), [...bundle.files.keys()].sort());
    await assert.rejects(Deno.stat(`${outDir}/stale.js`), Deno.errors.NotFound);
    const snapshot = JSON.parse(await Deno.readTextFile(`${outDir}/snapshot.json`));
    assert.deepEqual(Object.keys(snapshot), ["version", "hash", "entries", "files"]);
    assert.equal(await readSnapshot(`${dir}/none`), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[bundle] a non-build folder is never cleared; bad snapshots are rejected", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fresh_bundle_test_" });
  try {
    await Deno.writeTextFile(`${dir}/precious.txt`, "keep");
    await assert.rejects(
      writeSnapshot(bundle, dir),
      /Cannot write the build to .*: it is not empty/,
    );
    assert.equal(await Deno.readTextFile(`${dir}/precious.txt`), "keep");
    const escape = { version: 1, hash: "x", entries: {}, files: ["../precious.txt"] };
    await Deno.mkdir(`${dir}/out`);
    await Deno.writeTextFile(`${dir}/out/snapshot.json`, JSON.stringify(escape));
    await assert.rejects(
      readSnapshot(`${dir}/out`),
      /Cannot read .*snapshot\.json: unknown format/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[bundle] bundling errors carry deno bundle's message", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fresh_bundle_test_" });
  try {
    await Deno.mkdir(`${dir}/islands`);
    await Deno.writeTextFile(`${dir}/islands/Bad.tsx`, 'import "./missing.ts";\n');
    await assert.rejects(
      bundleIslands({ root: new URL(`file://${dir}/`), islands: ["./islands/Bad.tsx"] }),
      /^Error: Cannot bundle islands: deno bundle exited with code \d+:[^]*missing\.ts/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
