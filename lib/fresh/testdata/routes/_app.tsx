import type { PageProps } from "$fresh/server.ts";
import { asset } from "$fresh/runtime.ts";

export default function App({ Component }: PageProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>fixture</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={asset("/styles.css")} />
      </head>
      <body data-app="fixture">
        <Component />
      </body>
    </html>
  );
}
