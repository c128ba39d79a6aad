import type { PageProps } from "$fresh/server.ts";

export default function ServerError({ error }: PageProps) {
  return (
    <main>
      <h1>Custom 500</h1>
      <p class="error">{error instanceof Error ? error.message : String(error)}</p>
    </main>
  );
}
