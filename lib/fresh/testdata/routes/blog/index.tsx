import type { PageProps } from "$fresh/server.ts";
import type { State } from "../../shared.ts";

export default function BlogIndex({ state }: PageProps<unknown, State>) {
  return <p class="trail">{state.trail.join(">")}</p>;
}
