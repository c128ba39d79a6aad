import type { FreshContext, Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { FormError, FormField } from "../components/FormField.tsx";
import type { AppState } from "../lib/app/context.ts";
import { deleteUserData, disconnectUser } from "../lib/app/user_data.ts";
import { type AccountFailure, MIN_PASSWORD_LENGTH, readForm } from "../lib/auth/mod.ts";

/** Which form a message belongs to. */
type Intent = "password" | "delete";

type AccountData =
  | {
    view: "account";
    name: string;
    /** ms since the epoch, or `null` when unknown. */
    createdAt: number | null;
    /** Live sessions of the user (this one included). */
    sessions: number;
    /** A success message (after a password change). */
    notice: string | null;
    /** The refusal of the last POST, and which form sent it. */
    failure: { intent: Intent | null; message: string; field: AccountFailure["field"] } | null;
  }
  | { view: "deleted"; name: string };

const NO_STORE = { "cache-control": "no-store" };
const LOGIN = "/login?next=%2Faccount";

type Ctx = FreshContext<AppState, AccountData>;

function toLogin(): Response {
  return new Response(null, { status: 303, headers: { location: LOGIN, ...NO_STORE } });
}

async function renderAccount(
  ctx: Ctx,
  extra: { notice?: string | null; failure?: Extract<AccountData, { view: "account" }>["failure"] },
  init: { status?: number; headers?: Record<string, string> } = {},
): Promise<Response> {
  const user = ctx.state.user!;
  const { auth } = ctx.state.services;
  const [account, sessions] = await Promise.all([
    auth.findAccountById(user.userId),
    auth.listSessions(user.userId),
  ]);
  const data: AccountData = {
    view: "account",
    name: user.name,
    createdAt: account?.createdAt ?? null,
    sessions: sessions.length,
    notice: extra.notice ?? null,
    failure: extra.failure ?? null,
  };
  return ctx.render(data, { status: init.status, headers: { ...NO_STORE, ...init.headers } });
}

function changedNotice(param: string | null): string | null {
  if (param === null || !/^\d{1,6}$/.test(param)) return null;
  const n = Number(param);
  const others = n === 0
    ? "No other session was signed in."
    : `${n} other session${n === 1 ? " was" : "s were"} signed out.`;
  return `Your password was changed. ${others}`;
}

/**
 * `GET /account`: the signed-in user's account (else 303 to sign in). `POST /account`
 * with `intent=password` (current + new password: changes it and signs out every other
 * session) or `intent=delete` (password: deletes the account and all its data). Both
 * same-origin only.
 */
export const handler: Handlers<AccountData, AppState> = {
  async GET(_req, ctx) {
    const user = ctx.state.user;
    if (!user || user.anonymous) return toLogin();
    return await renderAccount(ctx, { notice: changedNotice(ctx.url.searchParams.get("changed")) });
  },
  async POST(req, ctx) {
    const user = ctx.state.user;
    if (!user || user.anonymous) {
      await req.body?.cancel();
      return toLogin();
    }
    const { auth, kv, hub } = ctx.state.services;
    const refused = auth.checkSameOrigin(req);
    if (refused) {
      await req.body?.cancel();
      const message = "This change was sent from another site and was refused";
      return await renderAccount(ctx, { failure: { intent: null, message, field: null } }, {
        status: 403,
      });
    }
    const form = await readForm(req);
    const intent = form?.get("intent");
    if (!form || (intent !== "password" && intent !== "delete")) {
      const message = "The form could not be read; please try again";
      return await renderAccount(ctx, { failure: { intent: null, message, field: null } }, {
        status: 400,
      });
    }
    const chosen: Intent = intent;
    const info = { ip: ctx.remoteAddr.hostname };
    const refusal = (failure: AccountFailure) => {
      const headers: Record<string, string> = failure.retryAfterSec
        ? { "retry-after": String(failure.retryAfterSec) }
        : {};
      const shown = { intent: chosen, message: failure.message, field: failure.field };
      return renderAccount(ctx, { failure: shown }, { status: failure.status, headers });
    };

    if (intent === "password") {
      const result = await auth.changePassword(req, user, {
        current: form.get("current") ?? "",
        password: form.get("password") ?? "",
      }, info);
      if (!result.ok) return await refusal(result);
      disconnectUser(hub, user.userId, "password_changed");
      const location = `/account?changed=${result.revokedSessions}`;
      return new Response(null, { status: 303, headers: { location, ...NO_STORE } });
    }

    const confirmed = await auth.confirmPassword(user, form.get("password") ?? "", info);
    if (!confirmed.ok) return await refusal(confirmed);
    await deleteUserData(kv, user.userId);
    disconnectUser(hub, user.userId, "account_deleted");
    const setCookie = await auth.logout(req);
    ctx.state.user = null; // the header renders signed out
    return ctx.render({ view: "deleted", name: user.name }, {
      headers: { ...NO_STORE, "set-cookie": setCookie },
    });
  },
};

function since(createdAt: number | null): string {
  if (createdAt === null) return "";
  return ` · member since ${new Date(createdAt).toISOString().slice(0, 10)}`;
}

export default function Account({ data }: PageProps<AccountData>) {
  if (data.view === "deleted") {
    return (
      <section class="login">
        <Head>
          <title>Account deleted · Realtime</title>
        </Head>
        <h1>Account deleted</h1>
        <p class="account-note" role="status">
          The account <strong>{data.name}</strong>{" "}
          and everything stored for it were deleted, and every session was signed out.
        </p>
        <p class="form-switch">
          <a href="/">Go to the markets</a> · <a href="/signup">Create a new account</a>
        </p>
      </section>
    );
  }
  const failure = data.failure;
  const errorFor = (intent: Intent | null) => failure?.intent === intent ? failure : null;
  const passwordError = errorFor("password");
  const deleteError = errorFor("delete");
  return (
    <section class="login account">
      <Head>
        <title>Your account · Realtime</title>
      </Head>
      <h1>Your account</h1>
      <p class="muted">
        Signed in as <strong class="account-name">{data.name}</strong>
        {since(data.createdAt)} · {data.sessions} active session{data.sessions === 1 ? "" : "s"}
      </p>
      {data.notice && <p class="form-notice" role="status">{data.notice}</p>}
      <FormError id="account-error" message={errorFor(null)?.message ?? null} />

      <form method="post" action="/account" class="login-form" aria-labelledby="change-title">
        <h2 id="change-title">Change password</h2>
        <input type="hidden" name="intent" value="password" />
        <input type="text" name="username" value={data.name} autocomplete="username" hidden />
        <FormError id="password-error" message={passwordError?.message ?? null} />
        <FormField
          id="change-current"
          label="Current password"
          name="current"
          type="password"
          autocomplete="current-password"
          maxLength={1024}
          invalid={passwordError?.field === "current"}
          errorId="password-error"
        />
        <FormField
          id="change-new"
          label="New password"
          name="password"
          type="password"
          autocomplete="new-password"
          minLength={MIN_PASSWORD_LENGTH}
          maxLength={1024}
          hint={`At least ${MIN_PASSWORD_LENGTH} characters, not a common password. Every other session is signed out.`}
          invalid={passwordError?.field === "password"}
          errorId="password-error"
        />
        <button type="submit">Change password</button>
      </form>

      <form
        method="post"
        action="/account"
        class="login-form danger-zone"
        aria-labelledby="delete-title"
      >
        <h2 id="delete-title">Delete account</h2>
        <input type="hidden" name="intent" value="delete" />
        <p class="account-note">
          This deletes{" "}
          <strong>{data.name}</strong>, signs out every session and removes everything stored for
          it. It cannot be undone.
        </p>
        <FormError id="delete-error" message={deleteError?.message ?? null} />
        <FormField
          id="delete-password"
          label="Password"
          name="password"
          type="password"
          autocomplete="current-password"
          maxLength={1024}
          invalid={deleteError !== null}
          errorId="delete-error"
        />
        <button type="submit" class="danger-button">Delete my account</button>
      </form>
    </section>
  );
}
