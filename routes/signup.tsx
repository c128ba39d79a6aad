import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { FormError, FormField } from "../components/FormField.tsx";
import type { AppState } from "../lib/app/context.ts";
import {
  type AccountField,
  MIN_PASSWORD_LENGTH,
  readLoginForm,
  safeNextPath,
  USERNAME_LENGTH,
} from "../lib/auth/mod.ts";

interface SignupData {
  /** Where to go after signing up (a path on this site). */
  next: string;
  /** The username typed last, to fill the field again. */
  username: string;
  error: string | null;
  /** The field the error is about. */
  field: AccountField;
  /** The name of the user already signed in (then no form is shown). */
  signedInAs: string | null;
}

const NO_STORE = { "cache-control": "no-store" };

function signedInName(ctx: { state: AppState }): string | null {
  const user = ctx.state.user;
  return user && !user.anonymous ? user.name : null;
}

/**
 * `GET /signup` renders the sign-up form; `POST /signup` creates the account, signs it
 * in and redirects (303) to `next`. Same-origin only; the rules are in lib/auth/rules.ts.
 */
export const handler: Handlers<SignupData, AppState> = {
  GET(_req, ctx) {
    const next = safeNextPath(ctx.url.searchParams.get("next"));
    const data = { next, username: "", error: null, field: null, signedInAs: signedInName(ctx) };
    return ctx.render(data, { headers: NO_STORE });
  },
  async POST(req, ctx) {
    const { auth } = ctx.state.services;
    const base = { next: "/", username: "", field: null, signedInAs: null };
    const refused = auth.checkSameOrigin(req);
    if (refused) {
      await req.body?.cancel();
      const error = "This sign-up was sent from another site and was refused";
      return ctx.render({ ...base, error }, { status: 403, headers: NO_STORE });
    }
    const form = await readLoginForm(req);
    if (!form) {
      const error = "The form could not be read; please try again";
      return ctx.render({ ...base, error }, { status: 400, headers: NO_STORE });
    }
    const result = await auth.signUp(req, form, { ip: ctx.remoteAddr.hostname });
    if (!result.ok) {
      const headers: Record<string, string> = { ...NO_STORE };
      if (result.retryAfterSec) headers["retry-after"] = String(result.retryAfterSec);
      const data = {
        ...base,
        next: form.next,
        username: form.username.slice(0, 64),
        error: result.message,
        field: result.field,
      };
      return ctx.render(data, { status: result.status, headers });
    }
    // A session of whoever was signed in before ends: the cookie now names the new account.
    if (ctx.state.user) await auth.logout(req);
    return new Response(null, {
      status: 303,
      headers: { location: form.next, "set-cookie": result.setCookie, ...NO_STORE },
    });
  },
};

export default function Signup({ data }: PageProps<SignupData>) {
  const { min, max } = USERNAME_LENGTH;
  return (
    <section class="login">
      <Head>
        <title>Create an account · Realtime</title>
      </Head>
      <h1>Create an account</h1>
      {data.signedInAs
        ? (
          <p class="account-note">
            You are signed in as <strong>{data.signedInAs}</strong>. <a href="/logout">Sign out</a>
            {" "}
            first to create another account, or open <a href="/account">your account</a>.
          </p>
        )
        : (
          <>
            <form method="post" action="/signup" class="login-form">
              <input type="hidden" name="next" value={data.next} />
              <FormError id="signup-error" message={data.error} />
              <FormField
                id="signup-username"
                label="Username"
                name="username"
                autocomplete="username"
                value={data.username}
                maxLength={max}
                hint={`${min}–${max} characters: a–z, 0–9, _ . -`}
                invalid={data.field === "username"}
                errorId="signup-error"
                autofocus={data.field !== "password"}
              />
              <FormField
                id="signup-password"
                label="Password"
                name="password"
                type="password"
                autocomplete="new-password"
                minLength={MIN_PASSWORD_LENGTH}
                maxLength={1024}
                hint={`At least ${MIN_PASSWORD_LENGTH} characters, not a common password`}
                invalid={data.field === "password"}
                errorId="signup-error"
                autofocus={data.field === "password"}
              />
              <button type="submit">Create account</button>
            </form>
            <p class="form-switch">
              Already have an account?{" "}
              <a
                href={data.next === "/" ? "/login" : `/login?next=${encodeURIComponent(data.next)}`}
              >
                Sign in
              </a>
            </p>
          </>
        )}
    </section>
  );
}
