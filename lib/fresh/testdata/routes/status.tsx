import type { Handlers, PageProps } from "$fresh/server.ts";

export const handler: Handlers<string> = {
  GET(_req, ctx) {
    return ctx.render("created", { status: 201, headers: { "x-custom": "yes" } });
  },
};

export default function Status({ data }: PageProps<string>) {
  return <p class="data">{data}</p>;
}
