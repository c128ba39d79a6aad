/** Props of {@linkcode AlertSignIn}. */
export interface AlertSignInProps {
  /** `?next=…` to come back to this page after signing in (`nextQuery` of UserMenu). */
  next: string;
  /** What the alerts would watch, for the sentence ("BTC-USD"). */
  subject?: string;
}

/**
 * What signed-out visitors see where alerts would be: a sentence and two links. Takes
 * the query ready-made, so islands rendering it carry no server code.
 */
export function AlertSignIn({ next, subject }: AlertSignInProps) {
  return (
    <section class="panel alert-signin" aria-labelledby="alert-signin-title">
      <h2 id="alert-signin-title">Price alerts</h2>
      <p class="muted">
        Get notified when {subject ?? "a pair"}{" "}
        crosses a price or moves fast: in the bell, as a toast, and on your desktop.
      </p>
      <p class="alert-signin-links">
        <a class="button" href={`/login${next}`} data-testid="alert-signin">Sign in</a>
        <span class="muted">or</span>
        <a href={`/signup${next}`}>create an account</a>
      </p>
    </section>
  );
}
