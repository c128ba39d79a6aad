import { deepEqual, equal, match, ok } from "node:assert/strict";
import { accountByUsernameKey, accountKey } from "../kv/keys.ts";
import {
  createAccount,
  deleteAccountRecords,
  findAccountById,
  findAccountByUsername,
  normalizeUsername,
  setPassword,
  type StoredAccount,
  verifyLogin,
} from "./accounts.ts";
import { parseHash } from "./password.ts";

const FAST = { iterations: 1_000 };

async function withKv(fn: (kv: Deno.Kv) => Promise<void>): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  try {
    await fn(kv);
  } finally {
    kv.close();
  }
}

Deno.test("[auth] accounts: create, find by name (any case) and by id", async () => {
  await withKv(async (kv) => {
    const created = await createAccount(kv, { username: "Alice_1", password: "hunter2hunter2" }, {
      ...FAST,
      now: () => 1_700_000_000_000,
    });
    ok(created.ok);
    const { account } = created;
    equal(account.username, "alice_1");
    deepEqual(account.roles, ["user"]);
    equal(account.createdAt, 1_700_000_000_000);
    match(account.id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
    deepEqual(await findAccountByUsername(kv, "ALICE_1"), account);
    deepEqual(await findAccountById(kv, account.id), account);
    equal(await findAccountByUsername(kv, "bob"), null);
    equal(await findAccountByUsername(kv, "no spaces allowed"), null);
    equal((await kv.get(accountByUsernameKey("alice_1"))).value, account.id);
    const stored = (await kv.get<StoredAccount>(accountKey(account.id))).value;
    ok(stored && parseHash(stored.passwordHash), "the record holds a PBKDF2 hash");
    equal("passwordHash" in account, false, "the public account has no hash");
  });
});

Deno.test("[auth] accounts: username and password rules", async () => {
  await withKv(async (kv) => {
    for (const bad of ["ab", "a".repeat(33), "with space", "émile", "semi;colon", ""]) {
      equal(normalizeUsername(bad), null, bad);
      const r = await createAccount(kv, { username: bad, password: "long enough" }, FAST);
      equal(r.ok ? "created" : r.code, "invalid_username", bad);
    }
    for (const good of ["abc", "a.b-c_d", "x".repeat(32), "0-9"]) {
      equal(normalizeUsername(good.toUpperCase()), good);
    }
    const weak = await createAccount(kv, { username: "carol", password: "short" }, FAST);
    equal(weak.ok ? "created" : weak.code, "weak_password");
    const long = await createAccount(kv, { username: "carol", password: "x".repeat(1025) }, FAST);
    equal(long.ok ? "created" : long.code, "weak_password");
    equal(await findAccountByUsername(kv, "carol"), null);
  });
});

Deno.test("[auth] accounts: a taken username is refused, whatever its case", async () => {
  await withKv(async (kv) => {
    ok((await createAccount(kv, { username: "dave", password: "password-1" }, FAST)).ok);
    const again = await createAccount(kv, { username: "DAVE", password: "password-2" }, FAST);
    equal(again.ok ? "created" : again.code, "username_taken");
  });
});

Deno.test("[auth] accounts: two concurrent sign-ups for one name, exactly one wins", async () => {
  await withKv(async (kv) => {
    const results = await Promise.all([
      createAccount(kv, { username: "race", password: "password-a" }, FAST),
      createAccount(kv, { username: "Race", password: "password-b" }, FAST),
    ]);
    equal(results.filter((r) => r.ok).length, 1);
    const loser = results.find((r) => !r.ok);
    equal(loser && !loser.ok ? loser.code : "", "username_taken");
    const ids = [];
    for await (const entry of kv.list({ prefix: ["account"] })) ids.push(entry.key[1]);
    equal(ids.length, 1, "no orphaned account record");
  });
});

Deno.test("[auth] accounts: verifyLogin", async () => {
  await withKv(async (kv) => {
    const r = await createAccount(kv, { username: "erin", password: "open sesame" }, FAST);
    ok(r.ok);
    equal((await verifyLogin(kv, "Erin", "open sesame", FAST))?.id, r.account.id);
    equal(await verifyLogin(kv, "erin", "open sesamE", FAST), null);
    equal(await verifyLogin(kv, "nobody", "open sesame", FAST), null);
    equal(await verifyLogin(kv, "bad name!", "open sesame", FAST), null);
  });
});

Deno.test("[auth] accounts: an unknown user costs the same PBKDF2 work as a known one", async () => {
  await withKv(async (kv) => {
    ok((await createAccount(kv, { username: "frank", password: "open sesame" }, FAST)).ok);
    // Count the PBKDF2 work of each login instead of timing it (deterministic).
    const original = crypto.subtle.deriveBits;
    let work = 0;
    crypto.subtle.deriveBits = function (algorithm, key, length) {
      work += (algorithm as Pbkdf2Params).iterations;
      return original.call(this, algorithm, key, length as number);
    };
    try {
      const cost = async (name: string, password: string) => {
        work = 0;
        await verifyLogin(kv, name, password, FAST);
        return work;
      };
      equal(await cost("frank", "wrong password"), 1_000);
      equal(await cost("nobody", "wrong password"), 1_000);
      equal(await cost("not a valid name", "wrong password"), 1_000);
      equal(await cost("frank", "open sesame"), 1_000);
    } finally {
      crypto.subtle.deriveBits = original;
    }
  });
});

Deno.test("[auth] accounts: setPassword and re-hash to the configured work factor", async () => {
  await withKv(async (kv) => {
    const r = await createAccount(kv, { username: "grace", password: "first pass" }, FAST);
    ok(r.ok);
    ok((await setPassword(kv, r.account.id, "second pass", FAST)).ok);
    equal(await verifyLogin(kv, "grace", "first pass", FAST), null);
    ok(await verifyLogin(kv, "grace", "second pass", FAST));
    const missing = await setPassword(kv, "nope", "second pass", FAST);
    equal(missing.ok ? "ok" : missing.code, "not_found");
    const weak = await setPassword(kv, r.account.id, "short", FAST);
    equal(weak.ok ? "ok" : weak.code, "weak_password");

    ok(await verifyLogin(kv, "grace", "second pass", { iterations: 2_000 }));
    const stored = (await kv.get<StoredAccount>(accountKey(r.account.id))).value;
    equal(parseHash(stored!.passwordHash)?.iterations, 2_000);
    ok(await verifyLogin(kv, "grace", "second pass", { iterations: 2_000 }));
  });
});

Deno.test("[auth] accounts: deleteAccountRecords removes the record and its name", async () => {
  await withKv(async (kv) => {
    const created = await createAccount(kv, { username: "Dora", password: "dora-password" }, FAST);
    ok(created.ok);
    const id = created.account.id;
    deepEqual(await deleteAccountRecords(kv, id), created.account);
    equal((await kv.get(accountKey(id))).value, null);
    equal((await kv.get(accountByUsernameKey("dora"))).value, null);
    equal(await deleteAccountRecords(kv, id), null, "a second delete finds nothing");
    const again = await createAccount(kv, { username: "dora", password: "dora-password" }, FAST);
    ok(again.ok, "the name is free again");
    equal(
      await verifyLogin(kv, "dora", "dora-password", FAST).then((a) => a?.id),
      again.account.id,
    );
  });
});
