import type { Principal } from "../lib/auth/mod.ts";

/** Props of {@linkcode UserMenu}. */
export interface UserMenuProps {
  /** `ctx.state.user`: the signed-in user, or `null`. */
  user: Principal | null;
  /** The current path, to come back to after signing in. Default `/`. */
  path?: string;
}

/**
 * "Signed in as NAME · Account · Sign out" (a form POST to /logout, so no link can sign
 * anyone out), or "Sign in · Sign up" links. A server component: no JavaScript in the
 * browser.
 */
export function UserMenu({ user, path = "/" }: UserMenuProps) {
  if (!user || user.anonymous) {
    const back = path === "/" || path.startsWith("/login") || path.startsWith("/signup") ||
      path.startsWith("/logout");
    const next = back ? "" : `?next=${encodeURIComponent(path)}`;
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
