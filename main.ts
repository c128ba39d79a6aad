/**
 * Production entry: a `deno serve` module (`deno task start` runs it; so can
 * `deno serve --parallel -A main.ts`). Each isolate that imports it starts its own
 * services (KV, gateway hub, producers under a lease) and exports the Fresh handler.
 *
 * It does not call `start()`: `deno run` warns about a default `fetch` export, and a
 * module cannot tell whether it runs under `deno serve`. `dev.ts` serves it in dev mode.
 */
import { createHandler } from "$fresh/server.ts";
import config from "./fresh.config.ts";
import manifest from "./fresh.gen.ts";
import { loadConfig } from "./lib/app/config.ts";
import { setAppServices } from "./lib/app/context.ts";
import { createServices } from "./lib/app/services.ts";
import { installShutdown } from "./lib/app/shutdown.ts";

const services = await createServices(loadConfig(Deno.env));
setAppServices(services);
installShutdown(services);

export default {
  fetch: await createHandler(manifest, config),
} satisfies Deno.ServeDefaultExport;
