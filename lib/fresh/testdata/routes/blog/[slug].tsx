import type { FreshContext, PageProps } from "$fresh/server.ts";

interface Post {
  slug: string;
}

type Context = FreshContext<Record<string, unknown>, Post, { reason: string }>;

export const handler = {
  GET(_req: Request, ctx: Context): Response | Promise<Response> {
    if (ctx.params.slug === "missing") return ctx.renderNotFound({ reason: "no such post" });
    return ctx.render({ slug: ctx.params.slug });
  },
};

export default function PostPage({ data, route }: PageProps<Post>) {
  return <p class="slug" data-route={route}>slug={data.slug}</p>;
}
