import type { PageProps } from "$fresh/server.ts";

export default function BlogLayout({ Component }: PageProps) {
  return (
    <section class="blog-layout">
      <Component />
    </section>
  );
}
