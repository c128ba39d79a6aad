import assert from "node:assert/strict";
import { generateManifest, scanProject, writeManifest } from "./manifest.ts";
import { deadline } from "../../tests/_deadline.ts";

const FIXTURE = new URL("./testdata/", import.meta.url);

/** Runs `deno fmt` on `text` as a .ts file and returns the formatted text. */
async function denoFmt(text: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext=ts", "-"],
    cwd: new URL("../../", import.meta.url), // the project's deno.json (lineWidth 100)
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(text));
    await writer.close();
    const output = await deadline(child.output(), 30_000, "deno fmt to format the text");
    assert.ok(output.success, new TextDecoder().decode(output.stderr));
    return new TextDecoder().decode(output.stdout);
  } catch (err) {
    try {
      child.kill("SIGKILL");
    } catch {
      // It has exited.
    }
    await deadline(child.status, 5_000, "deno fmt to exit after SIGKILL");
    throw err;
  }
}

async function withProject(files: string[], fn: (root: URL) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "fresh_manifest_test_" });
  try {
    for (const file of files) {
      await Deno.mkdir(`${dir}/${file.slice(0, file.lastIndexOf("/"))}`, { recursive: true });
      await Deno.writeTextFile(`${dir}/${file}`, "export default function X() {}\n");
    }
    await fn(new URL(`file://${dir}/`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("[manifest] the fixture's fresh.gen.ts is what the generator produces", async () => {
  const expected = await Deno.readTextFile(new URL("./fresh.gen.ts", FIXTURE));
  const generated = generateManifest(await scanProject(FIXTURE));
  assert.equal(generated, expected);
  assert.equal(generateManifest(await scanProject(FIXTURE)), generated, "deterministic");
});

Deno.test("[manifest] the output is already deno fmt formatted", async () => {
  const generated = generateManifest(await scanProject(FIXTURE));
  assert.equal(await denoFmt(generated), generated);
  const empty = generateManifest({ routes: [], islands: [] });
  assert.equal(await denoFmt(empty), empty);
  assert.ok(empty.includes("  routes: {},\n  islands: {},\n"));
});

Deno.test("[manifest] scan finds nested modules and skips tests, .d.ts and dot-folders", async () => {
  await withProject([
    "routes/index.tsx",
    "routes/(group)/[id]/[...rest].tsx",
    "routes/api/a-b.ts",
    "routes/api/a_b.ts",
    "routes/page_test.tsx",
    "routes/page.test.ts",
    "routes/test.ts",
    "routes/types.d.ts",
    "routes/.hidden/x.tsx",
    "routes/readme.md",
    "routes/legacy.jsx",
    "islands/Counter.tsx",
    "islands/widgets/Counter.tsx",
    "islands/Counter_test.tsx",
  ], async (root) => {
    const files = await scanProject(root);
    assert.deepEqual(files, {
      routes: [
        "./routes/(group)/[id]/[...rest].tsx",
        "./routes/api/a-b.ts",
        "./routes/api/a_b.ts",
        "./routes/index.tsx",
        "./routes/legacy.jsx",
      ],
      islands: ["./islands/Counter.tsx", "./islands/widgets/Counter.tsx"],
    });
    const text = generateManifest(files);
    assert.ok(
      text.includes('import * as $_group_id_rest_ from "./routes/(group)/[id]/[...rest].tsx";'),
    );
    assert.ok(text.includes('import * as $api_a_b from "./routes/api/a-b.ts";'));
    assert.ok(text.includes('import * as $api_a_b_1 from "./routes/api/a_b.ts";'), "unique ids");
    assert.ok(text.includes('import * as $widgets_Counter from "./islands/widgets/Counter.tsx";'));
    assert.equal(await denoFmt(text), text);
    // Input order does not matter.
    const shuffled = { routes: [...files.routes].reverse(), islands: [...files.islands].reverse() };
    assert.equal(generateManifest(shuffled), text);
  });
});

Deno.test("[manifest] writeManifest writes only when the text changes", async () => {
  await withProject(["routes/index.tsx"], async (root) => {
    const path = new URL("./fresh.gen.ts", root);
    assert.equal((await writeManifest(root)).changed, true);
    const first = await Deno.readTextFile(path);
    const { mtime } = await Deno.stat(path);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal((await writeManifest(root)).changed, false);
    assert.deepEqual((await Deno.stat(path)).mtime, mtime);
    await Deno.writeTextFile(new URL("./routes/about.tsx", root), "export default 1;\n");
    const third = await writeManifest(root);
    assert.equal(third.changed, true);
    assert.notEqual(await Deno.readTextFile(path), first);
    assert.deepEqual(third.routes, ["./routes/about.tsx", "./routes/index.tsx"]);
  });
});
