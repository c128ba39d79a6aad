/**
 * The demo account: `demo`, created on first start with a random password that is shown
 * exactly once (only its hash is stored), or with `DEMO_PASSWORD`, which is then applied
 * on every start.
 */
import type { Auth } from "./auth.ts";
import { randomBytes, toBase64Url } from "./_util.ts";

/** Username of the demo account. */
export const DEMO_USERNAME = "demo";

/** Options of {@linkcode ensureDemoAccount}. */
export interface DemoOptions {
  /** `DEMO_PASSWORD`: create the account with it, or reset the password to it. */
  password?: string;
}

/** What {@linkcode ensureDemoAccount} did. */
export type DemoAccount =
  | {
    username: string;
    /** This call created the account with a random password, given here once. */
    status: "created";
    password: string;
  }
  | {
    username: string;
    /** The password is `DEMO_PASSWORD` (created or updated by this call). */
    status: "configured";
    password: null;
  }
  | {
    username: string;
    /** The account existed; its password is not known (only its hash is stored). */
    status: "exists";
    password: null;
  };

/**
 * Makes sure the demo account exists. Safe to call from many isolates at once: exactly
 * one of them creates the account and gets the generated password.
 */
export async function ensureDemoAccount(
  auth: Auth,
  options: DemoOptions = {},
): Promise<DemoAccount> {
  const username = DEMO_USERNAME;
  if (options.password !== undefined) {
    const password = options.password;
    const created = await auth.createAccount({ username, password });
    if (created.ok) return { username, status: "configured", password: null };
    if (created.code !== "username_taken") {
      throw new Error(`Cannot use DEMO_PASSWORD: ${created.message}`);
    }
    const existing = await auth.findAccountByUsername(username);
    const set = existing && await auth.setPassword(existing.id, password);
    if (!set?.ok) throw new Error(`Cannot use DEMO_PASSWORD: ${set?.message ?? "no demo account"}`);
    return { username, status: "configured", password: null };
  }
  if (await auth.findAccountByUsername(username)) {
    return { username, status: "exists", password: null };
  }
  const password = toBase64Url(randomBytes(12)); // 16 characters, 96 bits
  const created = await auth.createAccount({ username, password });
  if (created.ok) return { username, status: "created", password };
  if (created.code === "username_taken") return { username, status: "exists", password: null };
  throw new Error(`Cannot create the demo account: ${created.message}`);
}

/** The one line to print at start-up about the demo account. */
export function demoLoginLine(demo: DemoAccount): string {
  switch (demo.status) {
    case "created":
      return `Demo login: ${demo.username} / ${demo.password} (printed once; set DEMO_PASSWORD to choose it)`;
    case "configured":
      return `Demo login: ${demo.username} with the password from DEMO_PASSWORD`;
    case "exists":
      return `Demo login: ${demo.username} (its password was printed once, when it was created; set DEMO_PASSWORD to choose a new one)`;
  }
}
