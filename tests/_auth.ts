/** Credentials for tests that run the app with `DEMO_PASSWORD` set. */
import { fetchWithin } from "./_deadline.ts";

/** The demo password the tests start the app with (`DEMO_PASSWORD`). */
export const DEMO_PASSWORD = "demo-password-for-tests";

/** An access token for the demo account from `POST /api/token`. */
export async function demoToken(origin: string, password = DEMO_PASSWORD): Promise<string> {
  const res = await fetchWithin(`${origin}/api/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "demo", password }),
  });
  if (res.status !== 200) throw new Error(`Cannot get a token: ${res.status} ${await res.text()}`);
  return (await res.json()).token;
}
