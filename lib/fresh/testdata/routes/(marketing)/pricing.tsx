import type { PageProps } from "$fresh/server.ts";
import type { State } from "../../shared.ts";

export default function Pricing({ state }: PageProps<unknown, State>) {
  return <p class="pricing">pricing {state.trail.join(">")}</p>;
}
