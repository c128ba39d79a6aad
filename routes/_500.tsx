import type { PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";

export default function ServerError(_props: PageProps) {
  return (
    <section class="error-page">
      <Head>
        <title>Error · Realtime</title>
      </Head>
      <h1>Something went wrong</h1>
      <p>
        The server could not render this page. The error was logged.{" "}
        <a href="/">Back to the markets</a>
      </p>
    </section>
  );
}
