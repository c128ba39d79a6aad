import { type Principal, safeNextPath } from "../lib/auth/mod.ts";

/** Props of {@linkcode UserMenu}. */
export interface UserMenuProps {
  /** `ctx.state.user`: the signed-in user, or `null`. */
  user: Principal | null;
  /**
   * The current path, to come back to after signing in. Default `/`. Only a path
   * {@linkcode safeNextPath} keeps unchanged becomes a `next=` link.
   */
  path?: string;
}

/** The `?next=…` query for `path`, or `""` when there is no safe page to come back to. */
export function nextQuery(path: string): string {
  const safe = safeNextPath(path);
  if (safe !== path || safe === "/") return "";
  const auth = /^\/(login|signup|logout)(?=$|[/?#])/.test(safe);
  return auth ? "" : `?next=${encodeURIComponent(safe)}`;
}

/**
 * "Signed in as NAME · Account · Sign out" (a form POST to /logout, so no link can sign
 * anyone out), or "Sign in · Sign up" links. A server component: no JavaScript in the
 * browser.
 */
export function UserMenu({ user, path = "/" }: UserMenuProps) {
  if (!user || user.anonymous) {
    const next = nextQuery(path);
    return (
      <div class="user-menu">
        <a href={`/login${next}`}>Sign in</a>
        <span aria-hidden="true">·</span>
        <a href={`/signup${next}`}>Sign up</a>
      </div>
    );
  }
  return (
    <div class="user-menu">
      <span>
        Signed in as <strong data-testid="user-name">{user.name}</strong>
      </span>
      <span aria-hidden="true">·</span>
      <a href="/account">Account</a>
      <span aria-hidden="true">·</span>
      <form method="post" action="/logout">
        <button type="submit" class="link-button">Sign out</button>
      </form>
    </div>
  );
}

export default UserMenu;
