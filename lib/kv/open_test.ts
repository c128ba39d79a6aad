import { equal, rejects } from "node:assert/strict";
import { isLockedError, retryWhileLocked, withLockRetry } from "./open.ts";

Deno.test("[kv] withLockRetry retries 'database is locked' and nothing else", async () => {
  let calls = 0;
  const result = await withLockRetry(() => {
    calls++;
    if (calls < 4) return Promise.reject(new TypeError("database is locked"));
    return Promise.resolve("done");
  }, { maxDelayMs: 1 });
  equal(result, "done");
  equal(calls, 4);
  let other = 0;
  await rejects(
    withLockRetry(() => {
      other++;
      return Promise.reject(new Error("Value too large"));
    }),
    /Value too large/,
  );
  equal(other, 1, "other errors are not retried");
  let stubborn = 0;
  await rejects(
    withLockRetry(() => {
      stubborn++;
      return Promise.reject(new TypeError("database is locked"));
    }, { attempts: 3, maxDelayMs: 1 }),
    /database is locked/,
  );
  equal(stubborn, 3, "gives up after the attempts");
  equal(isLockedError(new Error("x")), false);
});

Deno.test("[kv] retryWhileLocked keeps every KV write working", async () => {
  using kv = retryWhileLocked(await Deno.openKv(":memory:"));
  await kv.set(["a"], 1);
  const a = await kv.get<number>(["a"]);
  const commit = await kv.atomic().check(a).set(["a"], 2).set(["b"], 3).commit();
  equal(commit.ok, true);
  const stale = await kv.atomic().check(a).set(["a"], 9).commit();
  equal(stale.ok, false, "checks still apply");
  await kv.delete(["b"]);
  equal((await kv.get(["a"])).value, 2);
  equal((await kv.get(["b"])).value, null);
});
