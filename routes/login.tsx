import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import type { AppState } from "../lib/app/context.ts";
import { readLoginForm, safeNextPath } from "../lib/auth/mod.ts";

interface LoginData {
  /** Where to go after signing in (a path on this site). */
  next: string;
  /** The username typed last, to fill the field again. */
  username: string;
  error: string | null;
}

const NO_STORE = { "cache-control": "no-store" };

/** `GET /login` renders the form; `POST /login` signs in and redirects (303) to `next`. */
export const handler: Handlers<LoginData, AppState> = {
  GET(_req, ctx) {
    const next = safeNextPath(ctx.url.searchParams.get("next"));
    return ctx.render({ next, username: "", error: null }, { headers: NO_STORE });
  },
  async POST(req, ctx) {
    const { auth } = ctx.state.services;
    const refused = auth.checkOrigin(req);
    if (refused) {
      await req.body?.cancel();
      const error = "This sign-in was sent from another site and was refused";
      return ctx.render({ next: "/", username: "", error }, { status: 403, headers: NO_STORE });
    }
    const form = await readLoginForm(req);
    if (!form) {
      const error = "The form could not be read; please try again";
      return ctx.render({ next: "/", username: "", error }, { status: 400, headers: NO_STORE });
    }
    const result = await auth.login(req, form.username, form.password, {
      ip: ctx.remoteAddr.hostname,
    });
    if (!result.ok) {
      const headers: Record<string, string> = { ...NO_STORE };
      if (result.retryAfterSec) headers["retry-after"] = String(result.retryAfterSec);
      const data = { next: form.next, username: form.username, error: result.message };
      return ctx.render(data, { status: result.status, headers });
    }
    return new Response(null, {
      status: 303,
      headers: { location: form.next, "set-cookie": result.setCookie, ...NO_STORE },
    });
  },
};

export default function Login({ data }: PageProps<LoginData>) {
  return (
    <section class="login">
      <Head>
        <title>Sign in · Realtime</title>
      </Head>
      <h1>Sign in</h1>
      <form method="post" action="/login" class="login-form">
        <input type="hidden" name="next" value={data.next} />
        {data.error && <p class="form-error" role="alert">{data.error}</p>}
        <label>
          Username
          <input
            name="username"
            autocomplete="username"
            required
            maxLength={32}
            value={data.username}
            autofocus={!data.username}
          />
        </label>
        <label>
          Password
          <input
            type="password"
            name="password"
            autocomplete="current-password"
            required
            autofocus={!!data.username}
          />
        </label>
        <button type="submit">Sign in</button>
      </form>
      <p class="form-switch">
        No account yet?{" "}
        <a href={data.next === "/" ? "/signup" : `/signup?next=${encodeURIComponent(data.next)}`}>
          Create one
        </a>
      </p>
    </section>
  );
}
