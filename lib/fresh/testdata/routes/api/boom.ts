import type { Handlers } from "$fresh/server.ts";

export const handler: Handlers = {
  GET() {
    throw new Error("boom from handler");
  },
};
