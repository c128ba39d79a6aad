/**
 * `$fresh/dev.ts`: the development and build entry point.
 *
 * `dev(import.meta.url, "./main.ts", config)` regenerates `fresh.gen.ts`, then either
 * builds (`deno run -A dev.ts build`: island bundles into `config.build.outDir`, default
 * `<root>/_fresh`) or switches to dev mode and imports the entry point. An entry point
 * that is a `deno serve` module (`export default { fetch }`) is served here on
 * `PORT`/`HOSTNAME` (default 8000 / 0.0.0.0); one that calls `start()` serves itself.
 *
 * @module
 */
import { bundleIslands, type ClientBundle, writeSnapshot } from "./bundle.ts";
import { resolvePath } from "./handler.ts";
import { setDevMode } from "./internal.ts";
import { writeManifest } from "./manifest.ts";
import { serveOptions } from "./serve.ts";
import type { FreshConfig, ServeHandlerInfo } from "./types.ts";

/** Regenerates the manifest, then builds (`build` argument) or runs in dev mode. */
export async function dev(
  base: string,
  entrypoint: string,
  config: FreshConfig = {},
): Promise<void> {
  const root = new URL("./", base);
  if (Deno.args.includes("build")) {
    const { bundle, outDir } = await build(root, config);
    const count = Object.keys(bundle.entries).length - 1;
    console.log(`Built ${count} island bundle(s) into ${outDir} (bundle ${bundle.hash})`);
    return;
  }
  await writeManifest(root);
  setDevMode(true);
  const module = await import(new URL(entrypoint, base).href);
  const fetch = module.default?.fetch;
  if (typeof fetch === "function") {
    const serveDefault = module.default as {
      fetch: (req: Request, info: ServeHandlerInfo) => Response | Promise<Response>;
    };
    const server = Deno.serve(serveOptions(config), (req, info) => serveDefault.fetch(req, info));
    await server.finished;
  }
}

/**
 * Regenerates `fresh.gen.ts` in `root` and writes the island bundles and
 * `snapshot.json` to the build folder, replacing the previous build.
 */
export async function build(
  root: URL,
  config: FreshConfig = {},
): Promise<{ bundle: ClientBundle; outDir: string }> {
  const { islands } = await writeManifest(root);
  const outDir = resolvePath(root, config.build?.outDir ?? "_fresh");
  const bundle = await bundleIslands({ root, islands });
  await writeSnapshot(bundle, outDir);
  return { bundle, outDir };
}
