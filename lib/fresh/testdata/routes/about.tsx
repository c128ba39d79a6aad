import type { PageProps } from "$fresh/server.ts";

export default function About({ url, route }: PageProps) {
  return (
    <main>
      <h1>About</h1>
      <p class="route">{route}</p>
      <p class="url">{url.pathname}</p>
    </main>
  );
}
