import { defineRoute } from "$fresh/server.ts";
import type { State } from "../shared.ts";

export default defineRoute<State>((_req, ctx) => {
  return <p class="defined">defined {ctx.state.trail.join(">")}</p>;
});
