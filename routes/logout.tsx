import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import type { AppState } from "../lib/app/context.ts";

interface LogoutData {
  /** The signed-in user's name, or `null`. */
  name: string | null;
  error: string | null;
}

const NO_STORE = { "cache-control": "no-store" };

/**
 * `GET /logout` asks "Sign out of NAME?" with a button that POSTs (a link alone never
 * signs anyone out); `POST /logout` ends the session, clears the cookie and redirects
 * (303) to `/`. Same-origin only, like every auth POST.
 */
export const handler: Handlers<LogoutData, AppState> = {
  GET(_req, ctx) {
    const user = ctx.state.user;
    const name = user && !user.anonymous ? user.name : null;
    return ctx.render({ name, error: null }, { headers: NO_STORE });
  },
  async POST(req, ctx) {
    const { auth } = ctx.state.services;
    await req.body?.cancel();
    const refused = auth.checkOrigin(req);
    if (refused) {
      const user = ctx.state.user;
      const name = user && !user.anonymous ? user.name : null;
      const error = "This sign-out was sent from another site and was refused";
      return ctx.render({ name, error }, { status: refused.status, headers: NO_STORE });
    }
    return new Response(null, {
      status: 303,
      headers: { location: "/", "set-cookie": await auth.logout(req), ...NO_STORE },
    });
  },
};

export default function Logout({ data }: PageProps<LogoutData>) {
  return (
    <section class="login">
      <Head>
        <title>Sign out · Realtime</title>
      </Head>
      {data.error && <p class="form-error" role="alert">{data.error}</p>}
      {data.name
        ? (
          <>
            <h1>Sign out of {data.name}?</h1>
            <form method="post" action="/logout" class="login-form">
              <p class="account-note">
                This ends your session in this browser. Your other devices stay signed in.
              </p>
              <button type="submit">Sign out</button>
            </form>
            <p class="form-switch">
              <a href="/">Stay signed in and go back to the markets</a>
            </p>
          </>
        )
        : (
          <>
            <h1>You are not signed in</h1>
            <p class="account-note">
              There is nothing to sign out of. <a href="/">Go to the markets</a> or{" "}
              <a href="/login">sign in</a>.
            </p>
          </>
        )}
    </section>
  );
}
