import type { PageProps } from "$fresh/server.ts";

export default function NotFound({ url, data }: PageProps<{ reason: string } | undefined>) {
  return (
    <main>
      <h1>Custom 404</h1>
      <p class="path">{url.pathname}</p>
      {data && <p class="reason">{data.reason}</p>}
    </main>
  );
}
