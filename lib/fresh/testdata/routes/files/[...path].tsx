import type { PageProps } from "$fresh/server.ts";

export default function Files({ params }: PageProps) {
  return <p class="path">path={params.path}</p>;
}
