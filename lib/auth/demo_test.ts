import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { createAuth } from "./auth.ts";
import { demoLoginLine, ensureDemoAccount } from "./demo.ts";

async function withAuth(fn: (auth: Awaited<ReturnType<typeof createAuth>>) => Promise<void>) {
  const kv = await Deno.openKv(":memory:");
  try {
    await fn(await createAuth({ kv, pbkdf2Iterations: 1_000 }));
  } finally {
    kv.close();
  }
}

Deno.test("[auth] demo: created once with a random password, then only 'exists'", async () => {
  await withAuth(async (auth) => {
    const first = await ensureDemoAccount(auth);
    equal(first.status, "created");
    match(first.password ?? "", /^[A-Za-z0-9_-]{16}$/);
    equal(
      demoLoginLine(first),
      `Demo login: demo / ${first.password} (printed once; set DEMO_PASSWORD to choose it)`,
    );
    ok((await auth.verifyCredentials("demo", first.password!)).ok);

    const second = await ensureDemoAccount(auth);
    deepEqual(second, { username: "demo", status: "exists", password: null });
    match(demoLoginLine(second), /printed once, when it was created/);
    ok((await auth.verifyCredentials("demo", first.password!)).ok, "password unchanged");
  });
});

Deno.test("[auth] demo: concurrent starts create it exactly once", async () => {
  await withAuth(async (auth) => {
    const all = await Promise.all([1, 2, 3, 4].map(() => ensureDemoAccount(auth)));
    equal(all.filter((d) => d.status === "created").length, 1);
    equal(all.filter((d) => d.status === "exists").length, 3);
  });
});

Deno.test("[auth] demo: DEMO_PASSWORD creates or resets, and is never printed", async () => {
  await withAuth(async (auth) => {
    const generated = await ensureDemoAccount(auth);
    const configured = await ensureDemoAccount(auth, { password: "chosen-pass" });
    deepEqual(configured, { username: "demo", status: "configured", password: null });
    equal(demoLoginLine(configured), "Demo login: demo with the password from DEMO_PASSWORD");
    ok((await auth.verifyCredentials("demo", "chosen-pass")).ok);
    equal((await auth.verifyCredentials("demo", generated.password!)).ok, false);
    await ensureDemoAccount(auth, { password: "another-pass" });
    ok((await auth.verifyCredentials("demo", "another-pass")).ok);
    await rejects(
      ensureDemoAccount(auth, { password: "short" }),
      /Cannot use DEMO_PASSWORD: Password must have at least 8/,
    );
  });
  await withAuth(async (auth) => {
    equal((await ensureDemoAccount(auth, { password: "fresh-pass" })).status, "configured");
    ok((await auth.verifyCredentials("demo", "fresh-pass")).ok);
    await rejects(
      ensureDemoAccount(auth, { password: "x" }),
      /Cannot use DEMO_PASSWORD: Password must have at least 8/,
    );
  });
});
