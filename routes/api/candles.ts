import type { Handlers } from "$fresh/server.ts";
import type { AppState } from "../../lib/app/context.ts";
import { candlesResponse } from "../../lib/prices/http.ts";

/** `GET /api/candles?symbol=&interval=1m|1h&from=&to=`: stored candles; bad query → 400. */
export const handler: Handlers<unknown, AppState> = {
  GET(req, ctx) {
    const { services } = ctx.state;
    return candlesResponse(
      services.kv,
      new URL(req.url),
      new Set(services.config.prices.symbols),
      Date.now(),
    );
  },
};
