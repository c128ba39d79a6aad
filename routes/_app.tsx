import type { PageProps } from "$fresh/server.ts";
import { asset } from "$fresh/runtime.ts";
import ConnectionStatus from "../islands/ConnectionStatus.tsx";

export default function App({ Component }: PageProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Realtime · Deno</title>
        <link rel="stylesheet" href={asset("/styles.css")} />
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/">Realtime</a>
          <nav>
            <a href="/">Markets</a>
          </nav>
          <ConnectionStatus />
        </header>
        <main>
          <Component />
        </main>
      </body>
    </html>
  );
}
