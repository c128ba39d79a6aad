/**
 * Browser bundles of the client runtime and the islands, built with
 * `deno bundle --code-splitting` so modules shared by several islands (preact, signals,
 * module-level state) are loaded once per page.
 *
 * Every entry goes through a generated wrapper file in one temporary folder, so output
 * names are chosen here (`client.js`, `island-<path>.js`) instead of depending on the
 * folder layout. An island wrapper default-exports the island module's namespace.
 *
 * A bundle can be written to a folder (`deno task build`) with a `snapshot.json`
 * describing it, and read back at startup without running `deno bundle`.
 *
 * @module
 */

/** The output of one bundling run. */
export interface ClientBundle {
  /** Content hash of all output files. */
  hash: string;
  /** Output file name (relative, `/`-separated) → contents. */
  files: Map<string, Uint8Array>;
  /** `"client"` and every island manifest key → its output file name. */
  entries: Record<string, string>;
}

/** Where the deno.json of the project and the islands are. */
export interface BundleOptions {
  /** The project root: the folder of `fresh.gen.ts`. */
  root: URL;
  /** Manifest keys of the island modules, e.g. `./islands/Counter.tsx`. */
  islands: string[];
}

const CLIENT_ENTRY = "client";
const SNAPSHOT_FILE = "snapshot.json";
const SNAPSHOT_VERSION = 1;

/**
 * Bundles the client runtime and the islands with `deno bundle` in a temporary folder.
 * Fails with "Cannot bundle islands: …" (deno bundle's own message included).
 */
export async function bundleIslands(options: BundleOptions): Promise<ClientBundle> {
  try {
    return await runBundler(options);
  } catch (e) {
    throw new Error(`Cannot bundle islands: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function runBundler(options: BundleOptions): Promise<ClientBundle> {
  const names = entryFileNames(options.islands);
  const tmp = await Deno.makeTempDir({ prefix: "fresh_bundle_" });
  try {
    const entryDir = `${tmp}/entries`;
    const outDir = `${tmp}/out`;
    await Deno.mkdir(entryDir);
    const clientUrl = new URL("./client.ts", import.meta.url).href;
    const entryFiles = [`${entryDir}/${stem(names[CLIENT_ENTRY])}.ts`];
    await Deno.writeTextFile(entryFiles[0], `export * from ${JSON.stringify(clientUrl)};\n`);
    for (const key of options.islands) {
      const file = `${entryDir}/${stem(names[key])}.ts`;
      const source = JSON.stringify(new URL(key, options.root).href);
      await Deno.writeTextFile(
        file,
        `import * as island from ${source};\nexport default island;\n`,
      );
      entryFiles.push(file);
    }
    const config = await findDenoConfig(options.root);
    const args = [
      "bundle",
      ...(config ? ["--config", config] : []),
      "--code-splitting",
      "--platform",
      "browser",
      "--outdir",
      outDir,
      "--minify",
      ...entryFiles,
    ];
    const output = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: toPath(options.root),
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!output.success) {
      const detail = new TextDecoder().decode(output.stderr).trim();
      throw new Error(`deno bundle exited with code ${output.code}:\n${detail}`);
    }
    const files = await readTree(outDir);
    for (const name of Object.values(names)) {
      if (!files.has(name)) throw new Error(`deno bundle did not write ${name}`);
    }
    return { hash: await hashFiles(files), files, entries: names };
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/**
 * Output file names for the client runtime and the islands: `client.js` and
 * `island-<path below islands/>.js`, made unique (also on case-insensitive file
 * systems) by a numeric suffix in the sorted order of the keys.
 */
export function entryFileNames(islands: string[]): Record<string, string> {
  const names: Record<string, string> = { [CLIENT_ENTRY]: "client.js" };
  const used = new Set(["client.js"]);
  for (const key of [...islands].sort()) {
    const base = "island-" + key.replace(/^\.\/islands\//, "").replace(/\.[jt]sx?$/, "")
      .replace(/[^A-Za-z0-9_-]+/g, "_");
    let name = `${base}.js`;
    for (let n = 2; used.has(name.toLowerCase()); n++) name = `${base}-${n}.js`;
    used.add(name.toLowerCase());
    names[key] = name;
  }
  return names;
}

/** The bundle files a module statically imports (`import … from "./chunk-X.js"`). */
export function staticImports(code: string): string[] {
  const found = new Set<string>();
  for (const match of code.matchAll(/(?:\bfrom|\bimport)\s*["']\.\/([^"']+)["']/g)) {
    found.add(match[1]);
  }
  return [...found];
}

/**
 * Writes a bundle and its `snapshot.json` to `outDir`, replacing a previous build.
 * Refuses to clear a non-empty folder that holds no snapshot.
 */
export async function writeSnapshot(bundle: ClientBundle, outDir: string): Promise<void> {
  const existing = await listDir(outDir);
  if (existing.length > 0 && !existing.includes(SNAPSHOT_FILE)) {
    throw new Error(`Cannot write the build to ${outDir}: it is not empty and not a build folder`);
  }
  await Deno.remove(outDir, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  for (const [name, contents] of bundle.files) {
    const path = `${outDir}/${name}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeFile(path, contents);
  }
  const snapshot = {
    version: SNAPSHOT_VERSION,
    hash: bundle.hash,
    entries: bundle.entries,
    files: [...bundle.files.keys()].sort(),
  };
  await Deno.writeTextFile(`${outDir}/${SNAPSHOT_FILE}`, JSON.stringify(snapshot, null, 2) + "\n");
}

/** Reads a bundle written by {@linkcode writeSnapshot}; `null` when there is none. */
export async function readSnapshot(outDir: string): Promise<ClientBundle | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${outDir}/${SNAPSHOT_FILE}`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  const snapshot = JSON.parse(text) as Record<string, unknown>;
  const { version, hash, entries, files } = snapshot;
  if (
    version !== SNAPSHOT_VERSION || typeof hash !== "string" || !isStringRecord(entries) ||
    !Array.isArray(files) || !files.every((file) => typeof file === "string" && isSafeName(file))
  ) {
    throw new Error(
      `Cannot read ${outDir}/${SNAPSHOT_FILE}: unknown format; run \`deno task build\``,
    );
  }
  const contents = new Map<string, Uint8Array>();
  for (const file of files as string[]) {
    contents.set(file, await Deno.readFile(`${outDir}/${file}`));
  }
  return { hash, files: contents, entries };
}

/** SHA-256 over the sorted file names and contents, hex, 20 characters. */
export async function hashFiles(files: Map<string, Uint8Array>): Promise<string> {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const name of [...files.keys()].sort()) {
    parts.push(encoder.encode(`${name}\0`), files.get(name)!, encoder.encode("\0"));
  }
  return await sha256Hex(concat(parts), 20);
}

/** Hex SHA-256 of `data`, cut to `length` characters. */
export async function sha256Hex(data: Uint8Array, length = 64): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data as BufferSource));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("").slice(0, length);
}

/** A `file:` URL as a path; other paths unchanged. */
export function toPath(url: URL | string): string {
  const href = typeof url === "string" ? url : url.href;
  if (!href.startsWith("file:")) return href;
  return decodeURIComponent(new URL(href).pathname);
}

function stem(name: string): string {
  return name.replace(/\.js$/, "");
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === "object" && value !== null &&
    Object.values(value).every((item) => typeof item === "string" && isSafeName(item));
}

function isSafeName(name: string): boolean {
  return name.split("/").every((part) => part !== "" && part !== "." && part !== "..") &&
    !name.includes("\\");
}

async function readTree(dir: string, prefix = ""): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for await (const entry of Deno.readDir(dir)) {
    const name = prefix + entry.name;
    if (entry.isDirectory) {
      for (const [sub, data] of await readTree(`${dir}/${entry.name}`, `${name}/`)) {
        files.set(sub, data);
      }
    } else if (entry.isFile) {
      files.set(name, await Deno.readFile(`${dir}/${entry.name}`));
    }
  }
  return files;
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir))).map((entry) => entry.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

async function findDenoConfig(root: URL): Promise<string | null> {
  let dir = new URL("./", root);
  while (true) {
    for (const name of ["deno.json", "deno.jsonc"]) {
      const candidate = new URL(name, dir);
      try {
        if ((await Deno.stat(candidate)).isFile) return toPath(candidate);
      } catch {
        // keep looking
      }
    }
    const parent = new URL("../", dir);
    if (parent.href === dir.href) return null;
    dir = parent;
  }
}
