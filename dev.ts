#!/usr/bin/env -S deno run -A --watch=static/,routes/,islands/,components/,lib/
/**
 * Dev entry: regenerates `fresh.gen.ts`, then either writes production bundles
 * (`deno task build`) or serves `main.ts` with islands rebuilt on every start.
 */
import { dev } from "$fresh/dev.ts";
import config from "./fresh.config.ts";

await dev(import.meta.url, "./main.ts", config);
