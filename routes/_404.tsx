import type { PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";

export default function NotFound({ url }: PageProps) {
  return (
    <section class="error-page">
      <Head>
        <title>Page not found · Realtime</title>
      </Head>
      <h1>Page not found</h1>
      <p>
        Nothing lives at <code>{url.pathname}</code>. <a href="/">Back to the markets</a>
      </p>
    </section>
  );
}
