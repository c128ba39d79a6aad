/** The fixture as a `deno serve` module, like the app's main.ts. */
import { createHandler } from "$fresh/server.ts";
import manifest from "./fresh.gen.ts";

const handler = await createHandler(manifest);

export default { fetch: handler } satisfies Deno.ServeDefaultExport;
