import type { Principal } from "../lib/auth/mod.ts";

/** Props of {@linkcode UserMenu}. */
export interface UserMenuProps {
  /** `ctx.state.user`: the signed-in user, or `null`. */
  user: Principal | null;
  /** The current path, to come back to after signing in. Default `/`. */
  path?: string;
}

/**
 * "Signed in as NAME · Sign out" (a form POST to /logout, so no link can sign anyone
 * out), or a "Sign in" link. A server component: no JavaScript in the browser.
 */
export function UserMenu({ user, path = "/" }: UserMenuProps) {
  if (!user || user.anonymous) {
    const href = path === "/" || path.startsWith("/login")
      ? "/login"
      : `/login?next=${encodeURIComponent(path)}`;
    return (
      <div class="user-menu">
        <a href={href}>Sign in</a>
      </div>
    );
  }
  return (
    <div class="user-menu">
      <span>
        Signed in as <strong data-testid="user-name">{user.name}</strong>
      </span>
      <span aria-hidden="true">·</span>
      <form method="post" action="/logout">
        <button type="submit" class="link-button">Sign out</button>
      </form>
    </div>
  );
}

export default UserMenu;
