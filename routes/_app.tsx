import type { PageProps } from "$fresh/server.ts";
import { asset } from "$fresh/runtime.ts";
import UserMenu from "../components/UserMenu.tsx";
import ConnectionStatus from "../islands/ConnectionStatus.tsx";
import NotificationCenter from "../islands/NotificationCenter.tsx";
import type { AppState } from "../lib/app/context.ts";

export default function App({ Component, state, url }: PageProps<unknown, AppState>) {
  const signedIn = state.user && !state.user.anonymous ? state.user : null;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="dark light" />
        <title>Realtime</title>
        <link rel="icon" href={asset("/favicon.svg")} type="image/svg+xml" />
        <link rel="alternate icon" href="/favicon.ico" sizes="32x32" />
        <link rel="stylesheet" href={asset("/styles.css")} />
        <meta name="realtime-user" content={state.user?.userId ?? ""} />
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/">Realtime</a>
          <nav>
            <a href="/">Markets</a>
            <a href="/alerts">Alerts</a>
            <a href="/wallet">Wallet</a>
          </nav>
          <ConnectionStatus />
          {signedIn && <NotificationCenter userId={signedIn.userId} />}
          <UserMenu user={state.user ?? null} path={url.pathname + url.search} />
        </header>
        <main>
          <Component />
        </main>
      </body>
    </html>
  );
}
