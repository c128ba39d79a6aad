/**
 * What signed-out visitors see on `/wallet`: what the page does, and the way in. Takes
 * the `?next=` query ready-made.
 */
export function WalletSignIn({ next }: { next: string }) {
  return (
    <section class="panel wallet-signin" aria-labelledby="wallet-signin-title">
      <h2 id="wallet-signin-title">Watch your addresses</h2>
      <p class="muted">
        Follow every transaction of up to 20 addresses from the mempool to finality — ETH, tokens
        and NFTs, confirmations as they count up, failures with their revert reason, replaced and
        dropped transactions, and chain reorganizations — with balances in USD.
      </p>
      <p class="alert-signin-links">
        <a class="button" href={`/login${next}`} data-testid="wallet-signin">Sign in</a>
        <span class="muted">or</span>
        <a href={`/signup${next}`}>create an account</a>
      </p>
    </section>
  );
}
